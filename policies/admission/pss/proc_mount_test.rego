# Pod Security: procMount and procMount_restricted.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_proc_mount_baseline if {
	"pss.baseline.proc_mount" in test.pss_rules(proc_mount_baseline_pm(true), b)
	test.pss_rules(proc_mount_baseline_pm(false), b) == set()
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"procMount": "Default"}})]}), r) == set()
}

test_proc_mount_restricted_ignores_user_namespaces if {
	spec := test.restricted_with({"hostUsers": false, "containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"}})]})
	rules := test.pss_rules(spec, r)
	rules == {"pss.restricted.proc_mount_restricted"}
}

proc_mount_baseline_pm(host_users) := test.restricted_with({"hostUsers": host_users, "containers": [test.container_with({"securityContext": {"procMount": "Unmasked"}})]})
