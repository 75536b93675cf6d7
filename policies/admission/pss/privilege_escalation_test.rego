# Pod Security: allowPrivilegeEscalation (denied when true, fixed when unset).
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_allow_privilege_escalation_unset_is_fixed if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/allowPrivilegeEscalation", "value": false}]
	d.warnings[0] == concat("", ["belay fixed: ", d.reasons[0].message, " (pss.restricted.allow_privilege_escalation)"])
	patched_clean(spec)
}

test_allow_privilege_escalation_true_is_denied if {
	spec := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": true, "capabilities": {"drop": ["ALL"]}}})]})
	d := test.pss(spec, r)
	d.decision == "deny"
	d.reasons[0].rule == "pss.restricted.allow_privilege_escalation"
	d.fixes == []
}
