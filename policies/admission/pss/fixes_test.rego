# Pod Security: one fix per securityContext, a missing one added whole.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_missing_security_context_is_added_whole if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i"}]})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
	test.rules(d) == {"pss.restricted.allow_privilege_escalation", "pss.restricted.capabilities_restricted"}
	patched_clean(spec)
}

test_null_security_context_is_replaced if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": null}]})
	d := test.pss(spec, r)
	d.fixes[0].path == "/spec/containers/0/securityContext"
	patched_clean(spec)
}

test_bare_pod_gets_one_fix_per_security_context if {
	spec := {"containers": [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}], "initContainers": [{"name": "init", "image": "i"}]}
	d := test.pss(spec, r)
	d.decision == "allow"
	[f.path | some f in d.fixes] == [
		"/spec/containers/0/securityContext",
		"/spec/containers/1/securityContext",
		"/spec/initContainers/0/securityContext",
		"/spec/securityContext",
	]
	d.fixes[3].value == {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}
	patched_clean(spec)
}
