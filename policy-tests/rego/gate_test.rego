# The agent gate faces as the gateway calls them: prompts with the gateway's
# findings and redacted text, text tool results, and the trust ladder on the
# tool-call and authorization faces.
package belay.gate_test

import rego.v1

import data.belay.test

# --- prompts with the gateway's scan -------------------------------------------------------------

gateway_prompt(text, findings) := d if {
	d := data.belay.prompt.decision with input as {"face": "prompt", "actor": test.agent, "content": {"text": text, "length": 100, "findings": findings}}
}

test_gateway_findings_defer_with_their_kinds_and_lines if {
	d := gateway_prompt("logs: token [REDACTED] and key [REDACTED]", [
		{"kind": "cluster-token", "rule": "belay/openshift-token", "start": 13, "end": 63, "line": 2},
		{"kind": "private-key", "rule": "@secretlint/secretlint-rule-privatekey", "start": 70, "end": 90, "line": 4},
	])
	d.decision == "defer"
	d.reasons[0].rule == "prompt.secret"
	startswith(d.reasons[0].message, "the prompt contains a PEM private key, an OpenShift OAuth access token (sha256~…) (lines 2, 4);")
}

test_gateway_without_findings_allows_even_if_the_text_looks_secret if {
	# The gateway's scan is the answer when it ran: the text it hands over is redacted already.
	gateway_prompt("password: hunter2hunter2", []).decision == "allow"
}

test_unknown_finding_kinds_are_named_as_they_are if {
	d := gateway_prompt("x", [{"kind": "new-kind", "line": 1}])
	contains(d.reasons[0].message, "new-kind (line 1)")
}

test_prompt_observe_mode_never_blocks if {
	d := data.belay.prompt.decision with input as {"face": "prompt", "actor": test.agent, "content": {"text": "[REDACTED]", "findings": [{"kind": "jwt", "line": 1}]}}
		with data.belay.config.trust.global as "observe"
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "observe"
}

# --- tool results given as plain text -----------------------------------------------------------

test_text_result_value_with_a_token_defers if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "actor": test.agent, "content": {"format": "yaml", "value": "login ok, token sha256~abcdefghijklmnopqrstuvwxyz0123456789"}}
	d.decision == "defer"
	d.reasons[0].rule == "toolresult.credential_in_text"
}

# --- the trust ladder on the gate faces: one request, four modes -----------------------------------

secret_call := {
	"face": "toolcall",
	"actor": test.agent,
	"tool": {"name": "resources_get", "arguments": {"kind": "Secret", "namespace": "shop", "name": "db"}, "target": {"verb": "get", "kind": "Secret", "namespace": "shop", "name": "db"}},
	"context": {"workflow": "db-debug-v1"},
}

in_mode(inp, trust) := d if {
	d := data.belay.toolcall.decision with input as inp with data.belay.config.trust as trust
}

test_observe_allows_and_records_what_would_have_happened if {
	d := in_mode(secret_call, {"global": "observe"})
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "observe"
	startswith(d.warnings[0], "belay observe (workflow \"db-debug-v1\"): would defer to an approver:")
}

test_selective_observes_new_workflows_and_enforces_trusted_ones if {
	new := in_mode(secret_call, {"global": "selective"})
	new.decision == "allow"
	new.wouldBe == "defer"
	trusted := in_mode(secret_call, {"global": "selective", "trusted": {"workflows": ["db-debug-v1"]}})
	trusted.decision == "defer"
	trusted.wouldBe == null
}

test_approve_defers if {
	d := in_mode(secret_call, {"global": "approve"})
	d.decision == "defer"
	d.mode == "approve"
}

test_automate_lets_a_trusted_workflow_through_but_deny_still_denies if {
	d := in_mode(secret_call, {"global": "approve", "workflows": {"db-debug-v1": "automate"}})
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "automate"
	denied := data.belay.toolcall.decision with input as object.union(secret_call, {"tool": {"name": "kubectl_cp"}})
		with data.belay.config.trust as {"workflows": {"db-debug-v1": "automate"}}
		with data.belay.config.toolcall.deniedTools as ["kubectl_cp"]
	denied.decision == "deny"
}

sar := {
	"face": "authorization",
	"actor": object.union(test.agent, {"extra": {"belay.dev/workflow": ["db-debug-v1"]}}),
	"action": {"operation": "GET", "verb": "get", "subresource": ""},
	"resource": {"group": "", "version": "v1", "kind": "Secret", "resource": "secrets", "namespace": "shop", "name": "db"},
	"context": {"workflow": "db-debug-v1", "source": "userinfo"},
}

authz_in(trust) := d if {
	d := data.belay.authorization.decision with input as sar with data.belay.config.trust as trust
}

test_secret_read_per_mode if {
	authz_in({"global": "observe"}).decision == "allow"
	authz_in({"global": "selective"}).decision == "allow"
	authz_in({"global": "selective", "trusted": {"workflows": ["db-debug-v1"]}}).decision == "defer"
	authz_in({"global": "approve"}).decision == "defer"
	authz_in({"workflows": {"db-debug-v1": "automate"}}).decision == "allow"
}

# --- impersonation -------------------------------------------------------------------------------

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
