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
	d == {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "warnings": [], "approval": null, "mode": "approve", "wouldBe": null, "watch": null}
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
