# Tool calls: the tool list, unknown and denied tools, credentials in
# arguments, and the admission and authorization rules applied to the call.
package belay.toolcall.rules_test

import rego.v1

import data.belay.test

call(name, args, target) := {"face": "toolcall", "actor": test.agent, "tool": {"name": name, "arguments": args, "target": target}, "images": test.images}

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

test_gateway_findings_in_arguments_defer if {
	# The gateway scanned the arguments: its findings decide, pointers into the arguments.
	inp := {"face": "toolcall", "actor": test.agent, "tool": {
		"name": "resources_create_or_update",
		"arguments": {"resource": "kind: ConfigMap\ndata:\n  db.password: [REDACTED]\n", "namespace": "a"},
		"findings": [{"pointer": "/resource", "documentPointer": "/data/db.password", "kind": "password", "rule": "belay/keyed-value", "start": 0, "end": 9}],
	}}
	d := tool(inp)
	d.decision == "defer"
	"toolcall.secret_in_arguments" in test.rules(d)
	d.redact == ["/arguments/resource"]
	contains(d.reasons[0].message, "contain a password;")
}

test_gateway_without_findings_does_not_detect_again if {
	inp := {"face": "toolcall", "actor": test.agent, "tool": {"name": "pods_list", "arguments": {"token": "sha256~abcdefghijklmnopqrstuvwxyz0123456789"}, "findings": []}}
	not "toolcall.secret_in_arguments" in test.rules(tool(inp))
}

test_tool_credentials_in_arguments if {
	d := tool(call("resources_create_or_update", {"resource": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"note": "ok"}}, "header": "Authorization: Bearer sha256~abcdefghijklmnopqrstuvwxyz0123456789"}, null))
	d.decision == "defer"
	"toolcall.secret_in_arguments" in test.rules(d)
	d.redact == ["/arguments/header"]
}
