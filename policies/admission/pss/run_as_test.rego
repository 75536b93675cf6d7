# Pod Security: runAsNonRoot and runAsUser.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_run_as_non_root_fix_when_nothing_asks_for_root if {
	spec := test.restricted_with({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
	patched_clean(spec)
}

test_run_as_non_root_with_non_root_uid_is_still_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
}

test_run_as_non_root_on_every_container_passes if {
	c := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}})
	spec := {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [c]}
	test.pss_rules(spec, r) == set()
}

test_run_as_non_root_false_is_denied if {
	pod_false := test.restricted_with({"securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(pod_false, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_non_root"}
	ctr_false := test.restricted_with({"initContainers": [test.container_with({"name": "i", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false}})]})
	test.pss(ctr_false, r).decision == "deny"
}

test_run_as_root_user_is_denied_not_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_user", "pss.restricted.run_as_non_root"}
	d.fixes == []
}

test_run_as_user if {
	ctr_root := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 0}})]})
	"pss.restricted.run_as_user" in test.pss_rules(ctr_root, r)
	test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}), r) == set()
	test.pss_rules(ctr_root, b) == set()
}

# Upstream relaxes runAsNonRoot and runAsUser for user-namespace pods from
# v1.35 unconditionally; the tunable (on by default) can still turn it off.
test_user_namespace_relaxation_is_on_by_default if {
	spec := test.restricted_with({"hostUsers": false, "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.reasons == []
	test.pss(spec, r).decision == "deny" with data.belay.config.podSecurity.relaxRunAsForUserNamespaces as false
}

test_windows_pods_still_need_run_as_non_root if {
	spec := {"os": {"name": "windows"}, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}}]
}
