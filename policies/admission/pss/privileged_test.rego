# Pod Security: privileged.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_privileged if {
	d := test.pss(test.restricted_with({"containers": [test.container_with({"securityContext": {"privileged": true}})]}), b)
	d.decision == "deny"
	"pss.baseline.privileged" in test.rules(d)
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"privileged": false}})]}), r) == set()
}
