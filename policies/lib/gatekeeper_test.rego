# Gatekeeper's review, match and enforcement as belay evaluates them.
package belay.lib.gatekeeper_test

import rego.v1

import data.belay.lib.gatekeeper as gk

belay_input := {
	"actor": {"username": "system:serviceaccount:agents:bot", "groups": ["g"], "extra": {}},
	"action": {"operation": "CREATE", "subresource": ""},
	"resource": {"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments", "namespace": "team-a", "name": "web"},
	"object": {"metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}}},
	"oldObject": null,
	"namespace": {"name": "team-a", "labels": {"env": "dev"}},
}

test_review_is_built_from_belay_input if {
	r := gk.review with input as belay_input
	r.kind == {"group": "apps", "version": "v1", "kind": "Deployment"}
	r.name == "web"
	r.namespace == "team-a"
	r.operation == "CREATE"
	r.userInfo == {"username": "system:serviceaccount:agents:bot", "groups": ["g"], "extra": {}}
	not r.subResource
	r.object.metadata.labels.app == "web"
}

test_delete_reviews_the_old_object if {
	inp := object.union(belay_input, {"action": {"operation": "DELETE"}, "object": null, "oldObject": {"metadata": {"name": "old"}}})
	r := gk.review with input as inp
	r.object.metadata.name == "old"
}

test_given_review_wins if {
	r := gk.review with input as {"review": {"kind": {"kind": "Pod"}, "operation": ""}}
	r.kind.kind == "Pod"
}

test_match_fields if {
	gk.matches({}) with input as belay_input
	gk.matches({"kinds": [{"apiGroups": ["apps"], "kinds": ["Deployment"]}]}) with input as belay_input
	not gk.matches({"kinds": [{"apiGroups": [""], "kinds": ["Deployment"]}]}) with input as belay_input
	gk.matches({"namespaces": ["team-*"], "excludedNamespaces": ["*-sandbox"]}) with input as belay_input
	not gk.matches({"excludedNamespaces": ["team-a"]}) with input as belay_input
	gk.matches({"scope": "Namespaced", "name": "w*"}) with input as belay_input
	not gk.matches({"scope": "Cluster"}) with input as belay_input
	gk.matches({"labelSelector": {"matchLabels": {"app": "web"}}}) with input as belay_input
	not gk.matches({"labelSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}}) with input as belay_input
	gk.matches({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}}) with input as belay_input
	gk.matches({"namespaceSelector": {"matchLabels": {"env": "dev"}}}) with input as belay_input
	not gk.matches({"namespaceSelector": {"matchLabels": {"env": "prod"}}}) with input as belay_input
}

test_wildcards if {
	gk.wildcard_match("kube-*", "kube-system")
	gk.wildcard_match("*-system", "kube-system")
	gk.wildcard_match("*be-sy*", "kube-system")
	gk.wildcard_match("*", "x")
	not gk.wildcard_match("kube", "kube-system")
}

test_unknown_namespace_labels_are_undecidable if {
	inp := object.remove(belay_input, ["namespace"])
	c := {"kind": "K", "name": "n", "template": "k", "enforcementAction": "deny", "severity": "low", "match": {"namespaceSelector": {"matchLabels": {"env": "dev"}}}}
	vs := gk.undecidable with input as inp with data.gatekeeper.constraints as {"K": [c]}
	[v.action | some v in vs] == ["deny"]
}

test_actions_and_violation if {
	gk.actions({"enforcementAction": "warn"}) == {"warn"}
	gk.actions({"enforcementAction": "scoped", "scopedEnforcementActions": [
		{"action": "Deny", "enforcementPoints": [{"name": "validation.gatekeeper.sh"}]},
		{"action": "warn", "enforcementPoints": [{"name": "audit.gatekeeper.sh"}]},
	]}) == {"deny"}
	c := {"kind": "K", "name": "n", "template": "k", "enforcementAction": "defer", "severity": "high"}
	gk.violation(c, {"msg": "m"}) == {{"rule": "gatekeeper.K/n", "message": "m", "severity": "high", "action": "defer"}}
	[v.message | some v in gk.violation(c, {"details": {}})] == ["constraint K/n: template k returned a violation without a string msg"]
}
