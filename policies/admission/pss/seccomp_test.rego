# Pod Security: seccompProfile_baseline and seccompProfile_restricted (with the RuntimeDefault fix).
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_seccomp_baseline if {
	"pss.baseline.seccomp_profile_baseline" in test.pss_rules(test.restricted_with({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}), b)
	"pss.baseline.seccomp_profile_baseline" in test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})]}), b)
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}})]}), r) == set()
}

test_seccomp_restricted_fix if {
	spec := test.restricted_with({"securityContext": {"runAsNonRoot": true}})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}]
	test.rules(d) == {"pss.restricted.seccomp_profile_restricted"}
	patched_clean(spec)
}

test_seccomp_on_every_container_passes if {
	spec := {"securityContext": {"runAsNonRoot": true}, "containers": [seccomp_on_every_container_passes_c("RuntimeDefault")], "initContainers": [seccomp_on_every_container_passes_c("Localhost")]}
	test.pss_rules(spec, r) == set()
}

test_seccomp_one_container_missing_is_fixed_at_pod_level if {
	c := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Localhost", "localhostProfile": "x"}}})
	spec := {"securityContext": {"runAsNonRoot": true}, "containers": [c, test.container_with({"name": "c2"})]}
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}]
	patched_clean(spec)
}

test_seccomp_unconfined_is_denied_at_restricted if {
	spec := test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "Unconfined"}}})
	d := test.pss(spec, r)
	d.decision == "deny"
	test.rules(d) == {"pss.baseline.seccomp_profile_baseline", "pss.restricted.seccomp_profile_restricted"}
}

seccomp_on_every_container_passes_c(t) := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": t}}})

# At restricted the restricted check replaces the baseline one and exempts Windows pods (upstream).
test_seccomp_unconfined_windows_pod_at_restricted if {
	s := test.restricted_with({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "Unconfined"}}})
	test.pss_rules(s, r) == set()
	"pss.baseline.seccomp_profile_baseline" in test.pss_rules(s, b)
}
