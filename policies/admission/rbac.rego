# Privilege escalation through RBAC objects written by agents (use case 3).
# Bindings: to cluster-admin/admin/edit, of system:anonymous /
# system:unauthenticated (denied), of a namespace's default service account,
# of very broad groups, of the agent itself, and ClusterRoleBindings where a
# namespaced RoleBinding would do. Roles: `*` verbs or resources, the
# escalate/bind/impersonate verbs, Secret read access, other sensitive
# subresources, and ClusterRole aggregation into built-in roles.
package belay.admission.rbac

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.identity
import data.belay.lib.request as req
import data.belay.lib.util

writing if {
	req.agent
	req.operation in {"CREATE", "UPDATE"}
}

o := req.obj_or_empty

cluster_binding if req.kind == "ClusterRoleBinding"

binding if req.kind in {"RoleBinding", "ClusterRoleBinding"}

role if req.kind in {"Role", "ClusterRole"}

# --- bindings ---------------------------------------------------------------------

role_ref := r if {
	r := o.roleRef
	is_object(r)
} else := {}

role_ref_name := util.first([object.get(role_ref, "name", "")])

role_ref_text := concat(" ", [util.first([object.get(role_ref, "kind", ""), "role"]), util.q(role_ref_name)])

subjects := [s | some s in o.subjects; is_object(s)]

subject_namespace(s) := util.first([object.get(s, "namespace", ""), req.namespace])

subject_text(s) := concat("", ["ServiceAccount ", subject_namespace(s), "/", object.get(s, "name", "")]) if s.kind == "ServiceAccount"

subject_text(s) := concat(" ", [object.get(s, "kind", "Subject"), object.get(s, "name", "")]) if s.kind != "ServiceAccount"

forbidden := {subject_text(s) |
	some s in subjects
	some f in cfg.rbac.forbiddenSubjects
	s.kind == f.kind
	s.name == f.name
}

default_sas := {subject_text(s) | some s in subjects; s.kind == "ServiceAccount"; s.name == "default"}

broad := {subject_text(s) |
	some s in subjects
	s.kind == "Group"
	broad_group(s.name)
}

broad_group(g) if g in cfg.rbac.broadGroups

broad_group(g) if startswith(g, "system:serviceaccounts:")

self_subjects := {subject_text(s) | some s in subjects; is_self(s)}

is_self(s) if {
	s.kind == "ServiceAccount"
	sa := identity.service_account(req.actor)
	sa.namespace == subject_namespace(s)
	sa.name == s.name
}

is_self(s) if {
	s.kind == "User"
	s.name == req.username
}

is_self(s) if {
	s.kind == "Group"
	s.name in object.get(req.actor, "groups", [])
	not broad_group(s.name)
}

privileged_ref if {
	object.get(role_ref, "kind", "ClusterRole") == "ClusterRole"
	role_ref_name in cfg.rbac.privilegedRoles
}

# A ClusterRoleBinding whose subjects are all service accounts of one
# namespace only needs a RoleBinding there.
single_namespace := ns if {
	cluster_binding
	count(subjects) > 0
	every s in subjects {
		s.kind == "ServiceAccount"
	}
	namespaces := {subject_namespace(s) | some s in subjects}
	count(namespaces) == 1
	some ns in namespaces
	ns != ""
}

suggestion := concat("", [
	"; a namespaced RoleBinding in ", util.q(single_namespace),
	" to a narrower role (view, or a Role with only the verbs needed) would do",
]) if single_namespace

suggestion := "; if the subjects only need access in one namespace, use a namespaced RoleBinding there" if {
	cluster_binding
	not single_namespace
}

suggestion := "" if not cluster_binding

bound := concat("", [req.subject, " binds ", role_ref_text])

violations contains {
	"rule": "rbac.forbidden_subject",
	"message": concat("", [
		bound, " to ", concat(", ", sort(forbidden)),
		", i.e. to anyone who can reach the API server; remove that subject",
	]),
	"severity": "critical",
	"action": "deny",
} if {
	writing
	binding
	count(forbidden) > 0
}

violations contains {
	"rule": "rbac.privileged_role",
	"message": concat("", [
		bound, ", which grants ", privileged_scope, " to ", concat(", ", sort({subject_text(s) | some s in subjects})),
		"; ask an approver, or bind a narrower role", suggestion,
	]),
	"severity": privileged_severity,
	"action": "defer",
} if {
	writing
	binding
	privileged_ref
}

privileged_scope := "full control of the whole cluster" if {
	role_ref_name == "cluster-admin"
	cluster_binding
}

privileged_scope := "full control of the namespace" if {
	role_ref_name == "cluster-admin"
	not cluster_binding
}

privileged_scope := concat("", ["the ", util.q(role_ref_name), " permissions cluster-wide"]) if {
	role_ref_name != "cluster-admin"
	cluster_binding
}

privileged_scope := concat("", ["the ", util.q(role_ref_name), " permissions"]) if {
	role_ref_name != "cluster-admin"
	not cluster_binding
}

privileged_severity := "critical" if role_ref_name == "cluster-admin"

privileged_severity := "high" if role_ref_name != "cluster-admin"

violations contains {
	"rule": "rbac.default_service_account",
	"message": concat("", [
		bound, " to ", concat(", ", sort(default_sas)),
		", which every pod in that namespace runs as unless told otherwise; ",
		"create a dedicated service account and bind that instead", suggestion,
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	binding
	count(default_sas) > 0
}

violations contains {
	"rule": "rbac.broad_subject",
	"message": concat("", [
		bound, " to ", concat(", ", sort(broad)),
		", which covers every authenticated user or service account; bind specific subjects instead",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	binding
	count(broad) > 0
}

violations contains {
	"rule": "rbac.self_grant",
	"message": concat("", [
		bound, " to the requesting agent itself (", concat(", ", sort(self_subjects)),
		"); agents must not widen their own permissions, ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	binding
	count(self_subjects) > 0
}

violations contains {
	"rule": "rbac.cluster_binding",
	"message": concat("", [
		req.subject, " grants ", role_ref_text, " in every namespace to service accounts of namespace ",
		util.q(single_namespace), "; use a RoleBinding in ", util.q(single_namespace), " instead",
	]),
	"severity": "medium",
	"action": "defer",
} if {
	writing
	single_namespace
}

# --- roles --------------------------------------------------------------------------

role_rules := [r | some r in o.rules; is_object(r)]

list(r, key) := l if {
	l := r[key]
	is_array(l)
} else := []

wildcard_rules if {
	some r in role_rules
	"*" in list(r, "verbs")
}

wildcard_rules if {
	some r in role_rules
	"*" in list(r, "resources")
}

escalation_verbs := {v |
	some r in role_rules
	some v in list(r, "verbs")
	v in cfg.rbac.escalationVerbs
}

secret_read if {
	some r in role_rules
	some res in list(r, "resources")
	res in {"secrets", "*"}
	some v in list(r, "verbs")
	v in {"get", "list", "watch", "*"}
	core_group(r)
}

core_group(r) if {
	some g in list(r, "apiGroups")
	g in {"", "*"}
}

sensitive_resources := {res |
	some r in role_rules
	some res in list(r, "resources")
	res in cfg.rbac.sensitiveResources
}

violations contains {
	"rule": "rbac.wildcard",
	"message": concat("", [
		req.subject, " grants \"*\" verbs or resources, i.e. everything present and future; ",
		"list the exact verbs and resources needed, or ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	role
	wildcard_rules
}

violations contains {
	"rule": "rbac.escalation_verbs",
	"message": concat("", [
		req.subject, " grants the ", util.qlist(escalation_verbs),
		" ", util.plural(count(escalation_verbs), "verb", "verbs"),
		", which let its holder grant itself more than it has; remove them or ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	role
	count(escalation_verbs) > 0
}

violations contains {
	"rule": "rbac.secret_read",
	"message": concat("", [
		req.subject, " grants read access to Secrets, i.e. to every credential in ", secret_scope,
		"; grant access to named Secrets only (resourceNames) or ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	role
	secret_read
}

secret_scope := "the cluster (once bound by a ClusterRoleBinding)" if req.kind == "ClusterRole"

secret_scope := concat("", ["namespace ", util.q(req.namespace)]) if req.kind != "ClusterRole"

violations contains {
	"rule": "rbac.sensitive_resource",
	"message": concat("", [
		req.subject, " grants access to ", util.qlist(sensitive_resources),
		"; these reach into running pods, nodes or credentials, ask an approver",
	]),
	"severity": "medium",
	"action": "defer",
} if {
	writing
	role
	count(sensitive_resources) > 0
}

aggregates if is_object(o.aggregationRule)

aggregates if {
	some k, v in object.get(o, ["metadata", "labels"], {})
	startswith(k, "rbac.authorization.k8s.io/aggregate-to-")
	v == "true"
}

violations contains {
	"rule": "rbac.aggregation",
	"message": concat("", [
		req.subject, " aggregates into other ClusterRoles (aggregationRule or aggregate-to-* labels), ",
		"which silently widens every binding of those roles; ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	writing
	req.kind == "ClusterRole"
	aggregates
}
