package belay.faces_test

import rego.v1

import data.belay.test

# --- authorization ---------------------------------------------------------------------

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

# --- tool calls --------------------------------------------------------------------------

call(name, args, target) := {"face": "toolcall", "actor": test.agent, "tool": {"name": name, "arguments": args, "target": target}}

tool(inp) := d if {
	d := data.belay.toolcall.decision with input as inp
}

test_read_tools_are_allowed if {
	tool(call("pods_list", {"namespace": "prod-a"}, null)).decision == "allow"
	tool(call("resources_get", {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod-a", "name": "w"}, null)).decision == "allow"
}

test_unknown_tools_fail_closed if {
	d := tool(call("shell_run", {"cmd": "rm -rf /"}, null))
	d.decision == "defer"
	d.reasons[0].rule == "toolcall.unknown_tool"
	tool(call("shell_run", {}, null)).decision == "deny" with data.belay.config.toolcall.unknownTools as "deny"
	tool(call("shell_run", {}, null)).decision == "allow" with data.belay.config.toolcall.unknownTools as "off"
}

test_unknown_tool_with_a_target_is_judged_by_its_target if {
	tool(call("my_reader", {}, {"verb": "get", "kind": "ConfigMap", "namespace": "a", "name": "c"})).decision == "allow"
	tool(call("my_deleter", {}, {"verb": "delete", "kind": "Deployment", "namespace": "prod-a", "name": "w"})).decision == "defer"
}

test_denied_tools if {
	d := tool(call("pods_exec", {"namespace": "team-a", "name": "p"}, null)) with data.belay.config.toolcall.deniedTools as ["pods_exec"]
	d.decision == "deny"
	d.reasons[0].rule == "toolcall.denied_tool"
}

test_tool_exec_in_production_defers if {
	d := tool(call("pods_exec", {"namespace": "prod-a", "name": "web-1", "command": ["sh"]}, null))
	d.decision == "defer"
	d.reasons[0].rule == "interactive.exec"
	tool(call("pods_exec", {"namespace": "team-a", "name": "web-1", "command": ["sh"]}, null)).decision == "allow"
}

test_tool_delete_namespace if {
	d := tool(call("resources_delete", {"apiVersion": "v1", "kind": "Namespace", "name": "team-a"}, null))
	d.reasons[0].rule == "destructive.delete_namespace"
}

test_tool_secret_read_defers_with_redaction if {
	d := tool(call("resources_get", {"apiVersion": "v1", "kind": "Secret", "namespace": "shop", "name": "db"}, null))
	d.decision == "defer"
	d.reasons[0].rule == "secrets.read"
	d.redact == ["/data", "/stringData"]
}

test_tool_context_is_judged if {
	inp := object.union(call("resources_delete", {"kind": "Pod", "namespace": "team-a", "name": "p"}, null), {"context": {"workflow": "restart-pod-v1", "confidence": 0.4, "remediationTarget": "Pod/p"}})
	tool(inp).reasons[0].rule == "context.low_confidence"
}

test_tool_pod_security_fixes_the_resource_argument if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
	d := tool(call("pods_run", {"resource": pod}, null))
	d.decision == "allow"
	{f.path | some f in d.fixes} == {"/spec/securityContext", "/spec/containers/0/securityContext"}
}

test_tool_credentials_in_arguments if {
	d := tool(call("resources_create_or_update", {"resource": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"note": "ok"}}, "header": "Authorization: Bearer sha256~abcdefghijklmnopqrstuvwxyz0123456789"}, null))
	d.decision == "defer"
	"toolcall.secret_in_arguments" in test.rules(d)
	d.redact == ["/arguments/header"]
}

# --- tool results --------------------------------------------------------------------------

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
	d == {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "warnings": [], "approval": null, "mode": "approve", "wouldBe": null}
}

test_credentials_in_text_results_defer if {
	d := data.belay.toolresult.decision with input as {"face": "toolresult", "content": {"text": "kubeconfig token: sha256~abcdefghijklmnopqrstuvwxyz0123456789"}}
	d.decision == "defer"
	d.reasons[0].rule == "toolresult.credential_in_text"
}

# --- prompts -----------------------------------------------------------------------------------
# The gateway scans every prompt (src/scan) and hands policy the findings with
# the text redacted; gate_test.rego covers prompts with findings. Without a
# scan the policy cannot tell, and refuses.

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
