# RBAC objects written by agents: bindings (by role name and subjects) and roles.
package belay.admission.rbac_test

import rego.v1

import data.belay.test

binding(kind, role, subjects) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": "b"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
	"subjects": subjects,
}

sa(ns, name) := {"kind": "ServiceAccount", "name": name, "namespace": ns}

rb(role, subjects) := test.admit(test.admission("CREATE", binding("RoleBinding", role, subjects), "team-a"))

crb(role, subjects) := test.admit(test.admission("CREATE", binding("ClusterRoleBinding", role, subjects), ""))

role(kind, rules) := test.admit(test.admission("CREATE", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "r"}, "rules": rules}, "team-a"))

test_privileged_roles if {
	every r in ["cluster-admin", "admin", "edit"] {
		d := rb(r, [sa("team-a", "app")])
		d.decision == "defer"
		"rbac.privileged_role" in test.rules(d)
	}
	crb("cluster-admin", [sa("team-a", "app")]).approval.risk == "critical"
	rb("view", [sa("team-a", "app")]).decision == "allow"
}

test_privileged_role_name_on_a_namespaced_role_is_not_the_builtin if {
	obj := object.union(binding("RoleBinding", "admin", [sa("team-a", "app")]), {"roleRef": {"kind": "Role"}})
	test.admit(test.admission("CREATE", obj, "team-a")).decision == "allow"
}

test_forbidden_subjects_are_denied if {
	d := rb("view", [{"kind": "User", "name": "system:anonymous"}])
	d.decision == "deny"
	d.reasons[0].rule == "rbac.forbidden_subject"
	rb("view", [{"kind": "Group", "name": "system:unauthenticated"}]).decision == "deny"
	rb("view", [{"kind": "User", "name": "system:unauthenticated"}]).decision == "allow"
}

test_default_service_account if {
	d := rb("view", [sa("team-a", "default")])
	d.decision == "defer"
	test.rules(d) == {"rbac.default_service_account"}
	d2 := rb("view", [{"kind": "ServiceAccount", "name": "default"}])
	contains(d2.reasons[0].message, "ServiceAccount team-a/default")
}

test_broad_groups if {
	"rbac.broad_subject" in test.rules(rb("view", [{"kind": "Group", "name": "system:authenticated"}]))
	"rbac.broad_subject" in test.rules(rb("view", [{"kind": "Group", "name": "system:serviceaccounts:team-a"}]))
	rb("view", [{"kind": "Group", "name": "team-a-readers"}]).decision == "allow"
}

test_self_grant if {
	"rbac.self_grant" in test.rules(rb("view", [sa("agents", "remediator")]))
	"rbac.self_grant" in test.rules(rb("view", [{"kind": "User", "name": "system:serviceaccount:agents:remediator"}]))
	not "rbac.self_grant" in test.rules(rb("view", [sa("agents", "other")]))
}

test_cluster_binding_suggests_a_role_binding if {
	d := crb("cluster-admin", [sa("team-a", "default")])
	d.decision == "defer"
	{"rbac.privileged_role", "rbac.default_service_account", "rbac.cluster_binding", "sensitive.kind"} == test.rules(d)
	d.reasons[0].rule == "rbac.privileged_role"
	contains(d.reasons[0].message, "a namespaced RoleBinding in \"team-a\"")
	d2 := crb("view", [sa("team-a", "a"), sa("team-b", "b")])
	not "rbac.cluster_binding" in test.rules(d2)
	d3 := crb("cluster-admin", [{"kind": "User", "name": "bob"}])
	contains(d3.reasons[0].message, "if the subjects only need access in one namespace")
}

test_role_wildcards if {
	"rbac.wildcard" in test.rules(role("Role", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]))
	"rbac.wildcard" in test.rules(role("ClusterRole", [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]))
	role("Role", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]}]).decision == "allow"
}

test_role_escalation_verbs if {
	every v in ["escalate", "bind", "impersonate"] {
		"rbac.escalation_verbs" in test.rules(role("ClusterRole", [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": [v]}]))
	}
}

test_role_secret_read if {
	d := role("Role", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])
	d.decision == "defer"
	test.rules(d) == {"rbac.secret_read"}
	role("Role", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}]).decision == "allow"
	role("Role", [{"apiGroups": ["example.com"], "resources": ["secrets"], "verbs": ["get"]}]).decision == "allow"
}

test_role_sensitive_resources if {
	"rbac.sensitive_resource" in test.rules(role("Role", [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]))
}

test_cluster_role_aggregation if {
	obj := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x", "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}, "rules": []}
	"rbac.aggregation" in test.rules(test.admit(test.admission("CREATE", obj, "")))
	obj2 := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}, "aggregationRule": {"clusterRoleSelectors": []}}
	"rbac.aggregation" in test.rules(test.admit(test.admission("CREATE", obj2, "")))
}

test_humans_and_deletes_are_not_judged_by_rbac if {
	obj := binding("ClusterRoleBinding", "cluster-admin", [sa("team-a", "default")])
	test.admit(test.as_actor(test.admission("CREATE", obj, ""), test.human)).decision == "allow"
	not "rbac.privileged_role" in test.rules(test.admit(test.delete(obj, "")))
}
