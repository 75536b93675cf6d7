# Pod Security: sysctls.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_sysctls if {
	"pss.baseline.sysctls" in test.pss_rules(sysctls_sys("kernel.msgmax"), b)
	"pss.baseline.sysctls" in test.pss_rules(sysctls_sys("net.core.somaxconn"), r)
	every n in data.belay.config.podSecurity.safeSysctls {
		test.pss_rules(sysctls_sys(n), r) == set()
	}
}

sysctls_sys(n) := test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": [{"name": n, "value": "1"}]}})
