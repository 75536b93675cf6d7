# Prompts: with the gateway's findings (the text redacted already), and
# without a scan.
package belay.prompt.rules_test

import rego.v1

import data.belay.test

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

# --- without a scan --------------------------------------------------------------

# The gateway scans every prompt (src/scan) and hands policy the findings with
# the text redacted (the tests above). Without a scan the policy cannot
# tell, and refuses.
prompt(text) := d if {
	d := data.belay.prompt.decision with input as {"face": "prompt", "actor": test.human, "content": {"text": text}}
}

test_unscanned_prompt_is_refused if {
	d := prompt("logs:\n  Authorization: Bearer sha256~Xk3v9QqLr0aZ8mN2pT5wY7uB1cD4eF6gH8jK0lM2nP4\n")
	d.decision == "deny"
	[r.rule | some r in d.reasons] == ["prompt.unscanned"]
	contains(d.reasons[0].message, "/v1/prompts:check")
	prompt("why does my deployment keep restarting?").decision == "deny"
	data.belay.prompt.decision.decision == "deny" with input as {"content": {"value": "token=sha256~abcdefghijklmnopqrstuvwxyz0123456789"}}
}

test_scanned_prompt_without_findings_passes if {
	d := data.belay.prompt.decision with input as {"face": "prompt", "actor": test.human, "content": {"text": "why does my deployment keep restarting?", "length": 39, "findings": []}}
	d.decision == "allow"
	d.reasons == []
}

test_malformed_findings_are_ignored if {
	d := data.belay.prompt.decision with input as {"face": "prompt", "actor": test.human, "content": {"text": "x", "findings": [5, {"kind": 7}]}}
	d.decision == "allow"
}

test_passwords_and_secret_values_are_named if {
	d := gateway_prompt("DB_PASSWORD=[REDACTED]\napiKey: [REDACTED]", [
		{"kind": "password", "rule": "belay/assignment", "start": 12, "end": 22, "line": 1},
		{"kind": "secret-value", "rule": "belay/keyed-value", "start": 31, "end": 41, "line": 2},
	])
	d.decision == "defer"
	startswith(d.reasons[0].message, "the prompt contains a password, a secret value (under a credential-named key, or in a Secret's data) (lines 1, 2);")
}
