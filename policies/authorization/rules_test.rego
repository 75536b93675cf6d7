# SubjectAccessReviews: Secret reads and impersonation.
package belay.authorization.rules_test

import rego.v1

import data.belay.test

sar(verb, resource, ns, name) := {
	"face": "authorization",
	"actor": test.agent,
	"action": {"operation": upper(verb), "verb": verb, "subresource": ""},
	"resource": {"group": "", "version": "v1", "resource": resource, "namespace": ns, "name": name},
	"namespace": {"name": ns},
}

authz(inp) := d if {
	d := data.belay.authorization.decision with input as inp
}

test_secret_get_defers if {
	d := authz(sar("get", "secrets", "shop", "db-credentials"))
	d.decision == "defer"
	d.reasons[0].rule == "secrets.read"
	d.approval.risk == "high"
	d.redact == ["/data", "/stringData"]
}

test_secret_list_and_watch_defer if {
	d := authz(sar("list", "secrets", "shop", ""))
	d.decision == "defer"
	contains(d.reasons[0].message, "listing every Secret in namespace \"shop\"")
	d.approval.risk == "critical"
	contains(authz(sar("watch", "secrets", "", "")).reasons[0].message, "every Secret in every namespace")
}

test_other_reads_have_no_opinion if {
	authz(sar("get", "configmaps", "shop", "c")).decision == "allow"
	authz(sar("list", "pods", "shop", "")).decision == "allow"
	authz(sar("create", "secrets", "shop", "")).decision == "allow"
}

test_secret_reads_by_humans_have_no_opinion if {
	authz(test.as_actor(sar("get", "secrets", "shop", "x"), test.human)).decision == "allow"
}

test_secret_reads_in_allowed_namespaces if {
	d := authz(sar("get", "secrets", "agents", "own")) with data.belay.config.secrets.readAllowedNamespaces as ["agents"]
	d.decision == "allow"
}

test_impersonation_defers if {
	d := authz(sar("impersonate", "users", "", "alice"))
	d.decision == "defer"
	d.reasons[0].rule == "authz.impersonate"
}

impersonation(verb, resource, name) := d if {
	d := data.belay.authorization.decision with input as {
		"face": "authorization",
		"actor": test.agent,
		"action": {"operation": upper(verb), "verb": verb, "subresource": ""},
		"resource": {"group": "", "version": "v1", "resource": resource, "namespace": "", "name": name},
	}
}

test_classic_and_constrained_impersonation_defer if {
	classic := impersonation("impersonate", "users", "alice")
	classic.decision == "defer"
	startswith(classic.reasons[0].message, "impersonating alice (users) lets the agent act")
	constrained := impersonation("impersonate-on:user-info:list", "configmaps", "")
	constrained.decision == "defer"
	startswith(constrained.reasons[0].message, "impersonating another identity (impersonate-on:user-info:list on configmaps)")
	impersonation("impersonate:serviceaccount", "serviceaccounts", "default").decision == "defer"
}
