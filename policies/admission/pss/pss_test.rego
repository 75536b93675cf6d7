# Pod Security: which level applies and when the checks run. The tests of
# each control sit beside its file (x_test.rego next to x.rego), all in
# package belay.admission.pss_test so they share the builders below and in
# data.belay.test (policies/test/helpers_test.rego).
package belay.admission.pss_test

import rego.v1

import data.belay.test

r := "restricted"

b := "baseline"

# patched_clean(spec) applies the fixes to the pod and checks the result is
# allowed at restricted with no reasons and no further fixes.
patched_clean(spec) if {
	d := test.pss(spec, r)
	d.decision == "allow"
	count(d.fixes) > 0
	patched := json.patch(test.pod(spec), d.fixes)
	d2 := test.pss(patched.spec, r)
	d2.decision == "allow"
	d2.fixes == []
	d2.reasons == []
}

# --- levels ----------------------------------------------------------------------

test_compliant_pod_is_admitted_unchanged if {
	d := test.pss(test.restricted_spec, r)
	d.decision == "allow"
	d.fixes == []
	d.reasons == []
	d.warnings == []
}

test_default_level_is_restricted if {
	inp := test.admission("CREATE", test.pod({"containers": [{"name": "c", "image": "i"}]}), "team-a")
	d := test.admit(inp)
	"pss.restricted.run_as_non_root" in test.rules(d)
}

test_label_sets_baseline if {
	test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, b) == set()
}

test_label_value_is_case_insensitive if {
	test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, " Baseline ") == set()
}

test_privileged_level_checks_nothing if {
	spec := {"hostNetwork": true, "containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}
	test.pss(spec, "privileged").decision == "allow"
}

test_invalid_label_means_restricted if {
	"pss.restricted.run_as_non_root" in test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, "lenient")
}

test_data_namespace_level_beats_label if {
	spec := {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}
	d := test.pss(spec, r) with data.belay.config.podSecurity.namespaces as {"team-a": "privileged"}
	d.decision == "allow"
}

test_label_ignored_when_configured if {
	rules := test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, b) with data.belay.config.podSecurity.honorNamespaceLabel as false
	"pss.restricted.run_as_non_root" in rules
}

test_default_level_from_data if {
	inp := test.admission("CREATE", test.pod({"containers": [{"name": "c", "image": "i"}]}), "team-a")
	d := test.admit(inp) with data.belay.config.podSecurity.default as "baseline"
	d.reasons == []
}

# --- when the checks run ---------------------------------------------------------

bad_spec := {"hostPID": true, "containers": [{"name": "c", "image": "i"}]}

test_humans_are_not_judged if {
	inp := test.as_actor(test.admission("CREATE", test.pod(bad_spec), "team-a"), test.human)
	test.admit(inp).decision == "allow"
}

test_delete_is_not_pod_security if {
	not "pss.baseline.host_namespaces" in test.rules(test.admit(test.delete(test.pod(bad_spec), "team-a")))
}

test_update_without_template_change_is_not_rejudged if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1, "template": {"spec": bad_spec}}}
	new := object.union(old, {"spec": {"replicas": 3}})
	test.admit(test.update(old, new, "team-a")).reasons == []
}

test_update_with_template_change_is_judged if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": bad_spec}}}
	new := object.union(old, {"spec": {"template": {"metadata": {"labels": {"v": "2"}}}}})
	"pss.baseline.host_namespaces" in test.rules(test.admit(test.update(old, new, "team-a")))
}

test_pod_image_update_is_not_rejudged if {
	old := test.pod(bad_spec)
	new := test.pod({"hostPID": true, "containers": [{"name": "c", "image": "i:v2"}]})
	test.admit(test.update(old, new, "team-a")).reasons == []
}

# The same, from the gateway's list of changed paths (input.changed) instead of comparing.
test_update_changed_paths_decide_significance if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1, "template": {"spec": bad_spec}}}
	scaled := object.union(test.update(old, object.union(old, {"spec": {"replicas": 3}}), "team-a"), {"changed": [["spec", "replicas"]]})
	test.admit(scaled).reasons == []
	relabelled := object.union(test.update(old, old, "team-a"), {"changed": [["spec", "template", "metadata"]]})
	"pss.baseline.host_namespaces" in test.rules(test.admit(relabelled))
	replaced := object.union(test.update(old, old, "team-a"), {"changed": [["spec"]]})
	"pss.baseline.host_namespaces" in test.rules(test.admit(replaced))

	# An empty list is the gateway saying nothing changed: no comparison behind it.
	unchanged := object.union(test.update(old, object.union(old, {"spec": {"template": {"metadata": {"labels": {"v": "2"}}}}}), "team-a"), {"changed": []})
	test.admit(unchanged).reasons == []
}

test_pod_update_changed_paths_ignore_images_deadline_tolerations if {
	pod := test.pod(bad_spec)
	ignored := [["spec", "containers", 0, "image"], ["spec", "activeDeadlineSeconds"], ["spec", "tolerations", 0], ["metadata", "labels"]]
	test.admit(object.union(test.update(pod, pod, "team-a"), {"changed": ignored})).reasons == []
	every p in [["spec", "hostPID"], ["spec", "containers", 0, "securityContext"], ["spec", "containers"]] {
		"pss.baseline.host_namespaces" in test.rules(test.admit(object.union(test.update(pod, pod, "team-a"), {"changed": [p]})))
	}
}

test_status_subresource_is_not_judged if {
	inp := object.union(test.admission("UPDATE", test.pod(bad_spec), "team-a"), {"action": {"subresource": "status"}})
	test.admit(inp).reasons == []
}

test_ephemeral_containers_subresource_is_judged if {
	spec := object.union(test.restricted_spec, {"ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": {"privileged": true}}]})
	old := test.pod(test.restricted_spec)
	inp := object.union(test.update(old, test.pod(spec), "team-a"), {"action": {"subresource": "ephemeralcontainers"}, "resource": {"resource": "pods"}})
	d := test.admit(inp)
	d.decision == "deny"
	"pss.baseline.privileged" in test.rules(d)
}

# --- how checks combine ----------------------------------------------------------

test_denial_names_the_check if {
	d := test.pss(test.restricted_with({"hostPID": true}), b)
	contains(d.reasons[0].message, "check hostNamespaces")
	contains(d.reasons[0].message, "Pod \"p\"")
}

test_deny_wins_over_fixes if {
	spec := {"hostNetwork": true, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.decision == "deny"
	d.fixes == []
	d.reasons[0].rule == "pss.baseline.host_namespaces"
	"pss.restricted.run_as_non_root" in test.rules(d)
}
