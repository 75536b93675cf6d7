# Pod Security: seLinuxOptions.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_se_linux_options if {
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"type": "spc_t"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"user": "system_u"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"role": "system_r"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(test.restricted_with({"securityContext": {"seLinuxOptions": {"type": "somevalue"}}}), b)
	test.pss_rules(se_linux_options_sel({"type": "container_init_t", "level": "s0:c1"}), r) == set()
	test.pss_rules(se_linux_options_sel({}), r) == set()
}

se_linux_options_sel(o) := test.restricted_with({"containers": [test.container_with({"securityContext": {"seLinuxOptions": o}})]})

# container_engine_t is allowed from v1.31 (upstream's selinuxAllowedTypes1_31).
test_selinux_container_engine_t_is_allowed if {
	s := test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "seLinuxOptions": {"type": "container_engine_t"}}})
	test.pss_rules(s, b) == set()
}
