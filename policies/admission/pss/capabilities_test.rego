# Pod Security: capabilities_baseline and capabilities_restricted (with the drop ALL fix).
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_capabilities_baseline if {
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["NET_RAW"]), b)
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["SYS_ADMIN"]), r)
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["CAP_CHOWN"]), b)
	test.pss_rules(capabilities_baseline_caps(["CHOWN", "KILL", "NET_BIND_SERVICE", "SYS_CHROOT"]), b) == set()
}

test_capabilities_drop_variants if {
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities", "value": {"drop": ["ALL"]}}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop", "value": ["ALL"]}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"]}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop", "value": ["ALL"]}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": []}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop/-", "value": "ALL"}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop/-", "value": "ALL"}]
	patched_clean(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["NET_RAW"]}}))
	patched_clean(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {}}))
}

test_capabilities_restricted_add if {
	test.pss_rules(capabilities_restricted_add_caps(["NET_BIND_SERVICE"]), r) == set()
	d := test.pss(capabilities_restricted_add_caps(["CHOWN"]), r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.capabilities_restricted"}
}

test_capabilities_drop_all_is_case_sensitive if {
	spec := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["all"]}}})]})
	"pss.restricted.capabilities_restricted" in test.pss_rules(spec, r)
}

capabilities_baseline_caps(add) := test.restricted_with({"containers": [test.container_with({"securityContext": {"capabilities": {"drop": ["ALL"], "add": add}}})]})

capabilities_drop_variants_caps(sc) := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": sc}]})

capabilities_restricted_add_caps(add) := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": add}}})]})

# At restricted the restricted check replaces the baseline one and exempts Windows pods (upstream).
test_capabilities_windows_pod_at_restricted if {
	s := test.restricted_with({"os": {"name": "windows"}, "containers": [test.container_with({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}})]})
	test.pss_rules(s, r) == set()
	"pss.baseline.capabilities_baseline" in test.pss_rules(s, b)
}
