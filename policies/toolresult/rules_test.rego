# Tool results: Secret values and credentials redacted, credentials in text.
package belay.toolresult.rules_test

import rego.v1

import data.belay.test

result(value) := d if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "actor": test.agent, "content": {"format": "json", "value": value}}
}

test_secret_values_are_redacted if {
	d := result({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "cGFzcw==", "user": "dQ=="}, "stringData": {"a/b": "x"}})
	d.decision == "allow"
	d.redact == ["/data/password", "/data/user", "/stringData/a~1b"]
	d.warnings == ["belay redacted: the result holds Secret \"db\"; its values were replaced before reaching the model (toolresult.secret_data)"]
}

test_secret_lists_are_redacted if {
	d := result({"apiVersion": "v1", "kind": "SecretList", "items": [
		{"metadata": {"name": "a"}, "data": {"k": "dg=="}},
		{"metadata": {"name": "b", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}, "data": {"k": "dg=="}},
	]})
	d.redact == ["/items/0/data/k", "/items/1/data/k", "/items/1/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"]
	contains(d.reasons[0].message, "Secrets \"a\", \"b\"")
}

test_nested_secrets_are_redacted if {
	d := result({"kind": "List", "items": [{"kind": "ConfigMap", "data": {"a": "b"}}, {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}]})
	d.redact == ["/items/1/data/k"]
}

test_credentials_in_other_values_are_redacted if {
	d := result({"kind": "Pod", "spec": {"containers": [{"name": "c", "env": [{"name": "TOKEN", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}]}})
	d.decision == "allow"
	d.redact == ["/spec/containers/0/env/0/value"]
	d.reasons[0].rule == "toolresult.credential"
}

test_plain_results_pass if {
	d := result({"kind": "PodList", "items": [{"metadata": {"name": "web-1"}, "status": {"phase": "Running"}}]})
	d == {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "warnings": [], "approval": null, "mode": "approve", "wouldBe": null, "claim": null, "watch": null}
}

test_credentials_in_text_results_defer if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "content": {"text": "kubeconfig token: sha256~abcdefghijklmnopqrstuvwxyz0123456789"}}
	d.decision == "defer"
	d.reasons[0].rule == "toolresult.credential_in_text"
}

test_text_result_value_with_a_token_defers if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "actor": test.agent, "content": {"format": "yaml", "value": "login ok, token sha256~abcdefghijklmnopqrstuvwxyz0123456789"}}
	d.decision == "defer"
	d.reasons[0].rule == "toolresult.credential_in_text"
}

# --- with the gateway's findings ------------------------------------------------

# The gateway hands policy what its scanner found (input.content.findings,
# pointers into content.value) and has already replaced exactly those spans.
scanned_result(value, format, findings) := d if {
	d := data.belay.toolresult.decision with input as {
		"face": "toolresult", "actor": test.agent,
		"content": {"value": value, "format": format, "findings": findings, "status": "ok", "digest": "sha256:0"},
	}
}

test_gateway_findings_in_text_are_a_warning_not_a_defer if {
	log := "E0101 connecting to postgres://app:Harbor4821!kube@db:5432/app\nI0101 retrying"
	d := scanned_result(log, "text", [{"pointer": "", "kind": "connection-string", "rule": "belay/connection-string", "start": 35, "end": 50, "description": "a password in a connection string"}])
	d.decision == "allow"
	d.redact == []
	[r.rule | some r in d.reasons] == ["toolresult.credential"]
	d.warnings == ["belay warning: the result contains a database connection string with a password; belay replaced it with [REDACTED] before the result reached the model (toolresult.credential)"]
}

test_gateway_findings_name_the_new_kinds if {
	d := scanned_result({"db": {"password": "x", "apiKey": "y"}}, "yaml", [
		{"pointer": "/db/password", "kind": "password", "rule": "belay/keyed-value", "start": 0, "end": 1},
		{"pointer": "/db/apiKey", "kind": "secret-value", "rule": "belay/keyed-value", "start": 0, "end": 1},
	])
	contains(d.reasons[0].message, "a password, a secret value")
	contains(d.reasons[0].message, "replaced them")
}

test_gateway_findings_replace_the_policy_patterns if {
	# No findings from the gateway: the patterns of lib/scan.rego are not asked again.
	d := scanned_result("login ok, token sha256~abcdefghijklmnopqrstuvwxyz0123456789", "text", [])
	d.decision == "allow"
	d.reasons == []
	e := scanned_result({"env": [{"name": "TOKEN", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}, "json", [])
	e.reasons == []
}

test_secret_values_found_by_the_gateway_are_told_once if {
	secret := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "cGFzcw=="}}
	d := scanned_result(secret, "json", [{"pointer": "/data/password", "kind": "secret-value", "rule": "belay/secret-data", "start": 0, "end": 8}])
	[r.rule | some r in d.reasons] == ["toolresult.secret_data"]
	d.redact == ["/data/password"]
}

test_an_operator_can_make_credentials_in_results_defer if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "actor": test.agent, "content": {"value": "k", "format": "text", "findings": [{"pointer": "", "kind": "private-key", "rule": "belay/private-key", "start": 0, "end": 1}]}}
		with data.belay.config.rules as {"toolresult.credential": {"action": "defer"}}
	d.decision == "defer"
	contains(d.reasons[0].message, "a PEM private key")
}
