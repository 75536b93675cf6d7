# Gatekeeper's side of the bundle: the AdmissionRequest a template sees as
# input.review, Gatekeeper's match semantics for a Constraint's spec.match,
# and how a Constraint's enforcementAction becomes a belay violation.
#
# `make bundle` compiles each ConstraintTemplate under policies/gatekeeper/
# into a module (package belay.gatekeeper.eval.<template>) that, for every
# Constraint of its kind that `matches` the request, evaluates the template's
# `violation` rules `with input as {"review": review, "parameters": …}` and
# turns each result into `violation(constraint, result)`. The Constraints are
# data: data.gatekeeper.constraints[<Kind>] (see src/gatekeeper/compile.ts).
package belay.lib.gatekeeper

import rego.v1

# --- input.review --------------------------------------------------------------

# The AdmissionRequest as Gatekeeper's webhook passes it to templates, built
# from belay's input; `belay test` gives it as input.review (as gator does).
# On DELETE, `object` is the object being deleted (Gatekeeper copies
# oldObject there).
review := with_object(input.review) if given_review

review := with_object(object.remove(built_review, [k | some k in ["name", "namespace", "subResource"]; built_review[k] == ""])) if {
	not given_review
}

# (`not is_object(input.review)` would be undefined, not true, without a review.)
given_review if is_object(input.review)

built_review := {
	"kind": {"group": input.resource.group, "version": input.resource.version, "kind": input.resource.kind},
	"resource": {"group": input.resource.group, "version": input.resource.version, "resource": input.resource.resource},
	"subResource": object.get(input.action, "subresource", ""),
	"name": object.get(input.resource, "name", ""),
	"namespace": object.get(input.resource, "namespace", ""),
	"operation": input.action.operation,
	"userInfo": user_info,
	"object": object.get(input, "object", null),
	"oldObject": object.get(input, "oldObject", null),
	"dryRun": object.get(input, "dryRun", false),
	"options": object.get(input, "options", null),
}

user_info := object.remove(
	{
		"username": object.get(input.actor, "username", ""),
		"uid": object.get(input.actor, "uid", ""),
		"groups": object.get(input.actor, "groups", []),
		"extra": object.get(input.actor, "extra", {}),
	},
	[k | some k in ["uid"]; object.get(input.actor, k, "") == ""],
)

with_object(r) := object.union(r, {"object": r.oldObject}) if {
	r.operation == "DELETE"
	not is_object(object.get(r, "object", null))
	is_object(object.get(r, "oldObject", null))
} else := r

# --- match ---------------------------------------------------------------------

reviewed_object := object.get(review, "object", null)

# The objects whose labels a labelSelector is held against: the object, and
# on UPDATE the stored one too (either matching is a match, so removing a
# label cannot take an object out of a constraint's reach).
labelled := [o | some o in [reviewed_object, object.get(review, "oldObject", null)]; is_object(o)]

review_group := object.get(review.kind, "group", "")

review_kind := object.get(review.kind, "kind", "")

is_namespace if {
	review_kind == "Namespace"
	review_group == ""
}

# The namespace an object lives in, "" for cluster-scoped objects; a Namespace
# is its own namespace for `namespaces`, `excludedNamespaces` and
# `namespaceSelector`.
object_namespace := "" if is_namespace

object_namespace := n if {
	not is_namespace
	n := namespace_of_review
}

namespace_of_review := n if {
	n := review.namespace
	is_string(n)
	n != ""
} else := n if {
	some o in labelled
	n := o.metadata.namespace
	is_string(n)
} else := ""

namespace_name := object_name if is_namespace

namespace_name := object_namespace if not is_namespace

object_name := n if {
	n := review.name
	is_string(n)
	n != ""
} else := n if {
	some o in labelled
	n := o.metadata.name
	is_string(n)
} else := ""

# The labels of the object's namespace: input.namespace.labels (the gateway's
# namespace watch; `belay test`: the Namespace among the case's inventory).
namespace_labels := input.namespace.labels if is_object(input.namespace.labels)

# matches(m) is Gatekeeper's match for spec.match `m` (every given criterion holds).
matches(m) if {
	kinds_match(object.get(m, "kinds", []))
	scope_match(object.get(m, "scope", "*"))
	namespaces_match(m)
	excluded_namespaces_match(m)
	label_selector_match(m)
	namespace_selector_match(m)
	name_match(m)
}

kinds_match(kinds) if count(kinds) == 0

kinds_match(kinds) if {
	some k in kinds
	listed(object.get(k, "apiGroups", []), review_group)
	listed(object.get(k, "kinds", []), review_kind)
}

# An empty list, "*", or the value itself.
listed(values, _) if count(values) == 0

listed(values, _) if "*" in values

listed(values, v) if v in values

scope_match("*")

scope_match("Cluster") if object_namespace == ""

scope_match("Namespaced") if object_namespace != ""

# `namespaces` and `excludedNamespaces` say nothing about cluster-scoped
# objects other than Namespaces.
namespaces_match(m) if count(object.get(m, "namespaces", [])) == 0

namespaces_match(m) if {
	count(object.get(m, "namespaces", [])) > 0
	namespace_name == ""
}

namespaces_match(m) if {
	namespace_name != ""
	some pattern in object.get(m, "namespaces", [])
	wildcard_match(pattern, namespace_name)
}

excluded_namespaces_match(_) if namespace_name == ""

excluded_namespaces_match(m) if {
	namespace_name != ""
	not excluded(object.get(m, "excludedNamespaces", []))
}

excluded(patterns) if {
	some pattern in patterns
	wildcard_match(pattern, namespace_name)
}

name_match(m) if not m.name

name_match(m) if wildcard_match(m.name, object_name)

# Gatekeeper's wildcard: a leading and/or trailing "*" (prefix, suffix or
# substring match), else equality.
wildcard_match(pattern, s) if {
	startswith(pattern, "*")
	endswith(pattern, "*")
	count(pattern) > 1
	contains(s, substring(pattern, 1, count(pattern) - 2))
}

wildcard_match("*", _)

wildcard_match(pattern, s) if {
	startswith(pattern, "*")
	not endswith(pattern, "*")
	endswith(s, trim_prefix(pattern, "*"))
}

wildcard_match(pattern, s) if {
	endswith(pattern, "*")
	not startswith(pattern, "*")
	startswith(s, trim_suffix(pattern, "*"))
}

wildcard_match(pattern, s) if {
	not contains(pattern, "*")
	pattern == s
}

label_selector_match(m) if not m.labelSelector

label_selector_match(m) if {
	some o in labelled
	selects(m.labelSelector, object.get(o.metadata, "labels", {}))
}

# A namespaceSelector is held against the labels of the object's namespace
# (input.namespace.labels, kept current by the gateway's namespace watch), or
# of the Namespace itself; it says nothing about other cluster-scoped objects.
namespace_selector_match(m) if not m.namespaceSelector

namespace_selector_match(m) if {
	m.namespaceSelector
	namespace_name == ""
}

namespace_selector_match(m) if {
	not is_namespace
	namespace_name != ""
	selects(m.namespaceSelector, namespace_labels)
}

# A namespaceSelector cannot be decided for a namespaced object whose
# namespace's labels are unknown (local mode without the Namespace among the
# inventory files): Gatekeeper fails such a review, and so does belay, with a
# violation naming the Constraint, rather than guess.
undecidable contains v if {
	some _, cs in data.gatekeeper.constraints
	some c in cs
	selected(c)
	c.match.namespaceSelector
	not is_namespace
	namespace_name != ""
	not namespace_labels
	other := object.remove(c.match, ["namespaceSelector"])
	matches(other)
	some v in violation(c, {"msg": concat("", [
		"cannot tell whether Constraint ", c.kind, "/", c.name, " applies: the labels of namespace ", namespace_name,
		" are not known (give the gateway a cluster, or the Namespace among its inventory files)",
	])})
}

namespace_selector_match(m) if {
	is_namespace
	some o in labelled
	selects(m.namespaceSelector, object.get(o.metadata, "labels", {}))
}

# A Kubernetes label selector (matchLabels and matchExpressions, all must hold).
selects(selector, labels) if {
	every k, v in object.get(selector, "matchLabels", {}) {
		labels[k] == v
	}
	every e in object.get(selector, "matchExpressions", []) {
		expression_holds(e, labels)
	}
}

expression_holds(e, labels) if {
	e.operator == "In"
	labels[e.key] in object.get(e, "values", [])
}

# NotIn holds for an object without the key (Kubernetes' semantics).
expression_holds(e, labels) if {
	e.operator == "NotIn"
	not has_key(labels, e.key)
}

expression_holds(e, labels) if {
	e.operator == "NotIn"
	value := labels[e.key]
	not value in object.get(e, "values", [])
}

expression_holds(e, labels) if {
	e.operator == "Exists"
	_ = labels[e.key]
}

expression_holds(e, labels) if {
	e.operator == "DoesNotExist"
	not has_key(labels, e.key)
}

has_key(o, k) if _ = o[k]

# When input.belayGatekeeperConstraint names one Constraint ("Kind/name"),
# only that one is evaluated: how the gateway finds the Constraint whose
# template failed an evaluation.
selected(_) if not input.belayGatekeeperConstraint

selected(c) if input.belayGatekeeperConstraint == concat("/", [c.kind, c.name])

# --- enforcement -----------------------------------------------------------------

# The enforcement points whose scoped actions apply to the gateway: Gatekeeper's
# admission webhook, belay itself, or all of them.
enforcement_points := {"validation.gatekeeper.sh", "belay.dev", "*"}

# The actions a Constraint takes at admission: deny, warn, dryrun or belay's
# defer; `scoped` takes the scoped actions whose enforcement points include
# the webhook's.
actions(c) := {a |
	some s in object.get(c, "scopedEnforcementActions", [])
	some p in object.get(s, "enforcementPoints", [])
	p.name in enforcement_points
	a := lower(s.action)
} if c.enforcementAction == "scoped"

actions(c) := {lower(c.enforcementAction)} if c.enforcementAction != "scoped"

# The action names belay's decision document knows.
belay_action := {"deny": "deny", "warn": "warn", "dryrun": "dryrun", "defer": "defer"}

# The belay violations of one template result `r` for Constraint `c`: the
# rule id names the Constraint, the message is the template's msg. A result
# without a string msg is itself a violation (Gatekeeper refuses it too).
violation(c, r) := {v |
	some a in actions(c)
	v := {
		"rule": concat("", ["gatekeeper.", c.kind, "/", c.name]),
		"message": message(c, r),
		"severity": c.severity,
		"action": object.get(belay_action, a, "deny"),
	}
}

message(_, r) := r.msg if string_msg(r)

message(c, r) := concat("", ["constraint ", c.kind, "/", c.name, ": template ", c.template, " returned a violation without a string msg"]) if {
	not string_msg(r)
}

string_msg(r) if is_string(r.msg)
