# Request normalisation for every face.
package belay.lib.request_test

import rego.v1

import data.belay.lib.request as req
import data.belay.test

test_subresource_kind_comes_from_the_resource if {
	inp := {"action": {"operation": "CONNECT", "subresource": "exec"}, "resource": {"kind": "PodExecOptions", "resource": "pods", "namespace": "a", "name": "p"}}
	req.kind == "Pod" with input as inp
	req.operation == "CONNECT" with input as inp
	req.verb == "connect" with input as inp
}

test_kind_from_plural_for_authorization if {
	req.kind == "Secret" with input as {"action": {"verb": "get"}, "resource": {"resource": "secrets"}}
	req.operation == "GET" with input as {"action": {"verb": "get"}, "resource": {"resource": "secrets"}}
}

test_group_from_api_version if {
	req.group == "apps" with input as {"object": {"apiVersion": "apps/v1", "kind": "Deployment"}}
	req.group == "" with input as {"object": {"apiVersion": "v1", "kind": "Pod"}}
}

test_tool_call_from_target if {
	inp := {"tool": {"name": "x", "target": {"verb": "delete", "kind": "Deployment", "namespace": "n", "name": "d", "cluster": "c"}}}
	req.is_toolcall with input as inp
	req.operation == "DELETE" with input as inp
	req.kind == "Deployment" with input as inp
	req.namespace == "n" with input as inp
	req.cluster == "c" with input as inp
}

test_tool_call_from_tool_list_and_arguments if {
	inp := {"tool": {"name": "pods_exec", "arguments": {"namespace": "n", "name": "p", "command": ["sh"]}}}
	req.operation == "CONNECT" with input as inp
	req.subresource == "exec" with input as inp
	req.kind == "Pod" with input as inp
	req.name == "p" with input as inp
}

test_tool_call_yaml_resource_argument if {
	inp := {"tool": {"name": "resources_create_or_update", "arguments": {"resource": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\n"}}}
	req.kind == "ConfigMap" with input as inp
	req.namespace == "n" with input as inp
	req.operation == "CREATE" with input as inp
}

test_context_from_annotations_when_not_given if {
	inp := {"object": {"kind": "Deployment", "metadata": {"annotations": {"belay.dev/workflow": "wf", "belay.dev/confidence": "0.5", "other": "x"}}}}
	req.context == {"workflow": "wf", "confidence": "0.5"} with input as inp
	req.context == {"workflow": "given"} with input as object.union(inp, {"context": {"workflow": "given"}})
}

test_workflow_from_user_extra if {
	req.workflow == "wf" with input as {"actor": {"extra": {"belay.dev/workflow": ["wf"]}}}
}

test_agent_flag_or_identity if {
	req.agent with input as {"actor": {"agent": true}}
	req.agent with input as {"actor": {"username": "system:serviceaccount:agents:x"}}
	not req.agent with input as {"actor": {"username": "alice", "agent": false}}
	req.agent with input as {"tool": {"name": "pods_list"}, "actor": {"username": "alice"}}
	not req.agent with input as {"tool": {"name": "pods_list"}, "actor": {"username": "alice"}} with data.belay.config.toolcall.treatAllCallsAsAgent as false
}

scale(n) := test.scale(n)

test_subresource_without_resource_plural if {
	inp := {"actor": test.agent, "action": {"operation": "CONNECT", "subresource": "exec"}, "resource": {"kind": "PodExecOptions", "namespace": "prod-a", "name": "p"}}
	test.rules(test.admit(inp)) == {"interactive.exec"}
	scale_inp := {
		"actor": test.agent, "action": {"operation": "UPDATE", "subresource": "scale"},
		"resource": {"kind": "Scale", "namespace": "prod-a", "name": "web"},
		"object": scale(0), "oldObject": scale(2),
	}
	test.rules(test.admit(scale_inp)) == {"destructive.scale_to_zero"}
}
