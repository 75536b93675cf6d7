# Reads admission never sees (authorization face, and read tool calls):
# Secret reads by agents defer (use case 2), impersonation defers.
package belay.authorization.rules

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util

secret_read if {
	req.agent
	req.verb in cfg.secrets.readVerbs
	req.kind == "Secret"
	req.subresource == ""
	not req.namespace in cfg.secrets.readAllowedNamespaces
}

target := concat("", ["Secret ", util.q(req.name), " in namespace ", util.q(req.namespace)]) if {
	req.name != ""
	req.namespace != ""
}

target := concat("", ["Secret ", util.q(req.name)]) if {
	req.name != ""
	req.namespace == ""
}

target := concat("", ["every Secret in namespace ", util.q(req.namespace)]) if {
	req.name == ""
	req.namespace != ""
}

target := "every Secret in every namespace" if {
	req.name == ""
	req.namespace == ""
}

read_verb := {"get": "reading", "list": "listing", "watch": "watching"}

violations contains {
	"rule": "secrets.read",
	"message": concat("", [
		object.get(read_verb, req.verb, "reading"), " ", target,
		" would put raw credentials in the agent's context (and its LLM provider's); ",
		"ask an approver, or approve with the values redacted",
	]),
	"severity": severity,
	"action": "defer",
	"redact": ["/data", "/stringData"],
} if secret_read

severity := "high" if req.name != ""

severity := "critical" if req.name == ""

# Impersonation: the classic check (verb impersonate on users, groups,
# serviceaccounts, uids, userextras) and constrained impersonation's verbs
# (impersonate:user-info, impersonate:serviceaccount, impersonate-on:<mode>:<verb>, …).
impersonation if startswith(req.verb, "impersonate")

impersonated := concat("", [util.first([req.name, "another identity"]), " (", util.first([req.resource, "users"]), ")"]) if req.verb == "impersonate"

impersonated := concat("", ["another identity (", req.verb, " on ", util.first([req.resource, "users"]), ")"]) if req.verb != "impersonate"

violations contains {
	"rule": "authz.impersonate",
	"message": concat("", [
		"impersonating ", impersonated,
		" lets the agent act with someone else's permissions, past belay's checks of its own requests; ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	req.agent
	impersonation
}
