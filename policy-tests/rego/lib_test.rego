package belay.lib_test

import rego.v1

import data.belay.lib.config
import data.belay.lib.env
import data.belay.lib.identity
import data.belay.lib.request as req
import data.belay.lib.scan
import data.belay.lib.util

# --- config ----------------------------------------------------------------------

# data.json holds every default; the only value it adds is the safe sysctl
# list (kept out of the compiled module, see lib/config.rego).
test_data_json_matches_the_documented_defaults if {
	object.remove(data.belay.config, ["podSecurity"]) == object.remove(config.defaults, ["podSecurity"])
	object.remove(data.belay.config.podSecurity, ["safeSysctls"]) == object.remove(config.defaults.podSecurity, ["safeSysctls"])
	config.defaults.podSecurity.safeSysctls == []
	count(data.belay.config.podSecurity.safeSysctls) == 14
}

test_safe_sysctls_without_data_refuse_every_sysctl if {
	config.cfg.podSecurity.safeSysctls == [] with data.belay.config as {}
}

test_partial_data_is_completed_by_defaults if {
	c := config.cfg with data.belay.config as {"confidenceThreshold": 0.9, "production": {"namePrefixes": ["live"]}}
	c.confidenceThreshold == 0.9
	c.production.namePrefixes == ["live"]
	c.production.nameSuffixes == ["-prod", "-production"]
	c.podSecurity.default == "restricted"
}

test_missing_data_falls_back_to_defaults if {
	c := config.cfg with data.belay.config as null
	c == config.defaults
}

# --- identity --------------------------------------------------------------------

test_agent_by_service_account_namespace if {
	identity.is_agent({"username": "system:serviceaccount:agents:bot"})
	identity.is_agent({"serviceAccount": {"namespace": "agents", "name": "bot"}})
	not identity.is_agent({"username": "system:serviceaccount:default:bot"})
}

test_agent_by_listed_service_account if {
	every entry in ["ci/deployer", "ci:deployer", "system:serviceaccount:ci:deployer"] {
		identity.is_agent({"username": "system:serviceaccount:ci:deployer"}) with data.belay.config.agents.serviceAccounts as [entry]
	}
	not identity.is_agent({"username": "system:serviceaccount:ci:other"}) with data.belay.config.agents.serviceAccounts as ["ci/deployer"]
}

test_agent_by_group_and_username if {
	identity.is_agent({"username": "bot@example.com", "groups": ["belay:agents"]})
	identity.is_agent({"username": "copilot"}) with data.belay.config.agents.usernames as ["copilot"]
	not identity.is_agent({"username": "alice", "groups": ["developers"]})
	not identity.is_agent({})
}

test_malformed_service_account_usernames_are_not_agents if {
	not identity.is_agent({"username": "system:serviceaccount:agents"})
	not identity.is_agent({"username": "system:serviceaccounts:agents:x"})
}

# --- production --------------------------------------------------------------------

prod(ns) if env.production with input as {"resource": {"namespace": ns}}

test_production_by_name if {
	prod("prod")
	prod("prod-billing")
	prod("PROD-billing")
	prod("billing-prod")
	prod("billing-Production")
	not prod("billing")
	not prod("preprod-billing")
	not prod("")
}

test_production_by_label_case_insensitive if {
	env.production with input as {"resource": {"namespace": "billing"}, "namespace": {"name": "billing", "labels": {"Environment": "PRODUCTION"}}}
	not env.production with input as {"resource": {"namespace": "billing"}, "namespace": {"name": "billing", "labels": {"environment": "staging"}}}
}

test_production_label_key_and_values_from_data if {
	inp := {"resource": {"namespace": "billing"}, "namespace": {"labels": {"tier": "live"}}}
	env.production with input as inp
		with data.belay.config.production.labelKey as "tier"
		with data.belay.config.production.labelValues as ["live"]
}

test_namespace_object_uses_its_own_name_and_labels if {
	env.production with input as {"resource": {"kind": "Namespace", "name": "prod-x"}}
	env.production with input as {"resource": {"kind": "Namespace"}, "object": {"kind": "Namespace", "metadata": {"name": "x", "labels": {"environment": "production"}}}}
	not env.production with input as {"resource": {"kind": "Namespace", "name": "team-x"}}
}

test_production_by_cluster if {
	env.production with input as {"resource": {"namespace": "web"}, "context": {"cluster": "prod-billing"}}
	env.production with input as {"tool": {"name": "x", "target": {"namespace": "web", "cluster": "eu1-production"}}}
	env.production with input as {"resource": {"namespace": "web"}} with data.belay.config.production.cluster as true
	not env.production with input as {"resource": {"namespace": "web"}, "context": {"cluster": "staging-eu1"}}
}

test_where_phrases if {
	env.where == "production namespace \"prod-a\"" with input as {"resource": {"namespace": "prod-a"}}
	env.where == "namespace \"web\" in production cluster \"prod-eu\"" with input as {"resource": {"namespace": "web"}, "context": {"cluster": "prod-eu"}}
	env.where == "production cluster \"prod-eu\"" with input as {"context": {"cluster": "prod-eu"}}
	env.where == "namespace \"web\"" with input as {"resource": {"namespace": "web"}}
	env.where == "the cluster" with input as {}
}

# --- request normalisation --------------------------------------------------------

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

# --- util and scan -----------------------------------------------------------------

test_util if {
	util.first(["", null, "a", "b"]) == "a"
	util.first([]) == ""
	util.qlist(["b", "a", "a"]) == "\"a\", \"b\""
	util.pointer(["data", "a/b~c"]) == "/data/a~1b~0c"
	util.pointer(["items", 0, "data"]) == "/items/0/data"
	util.pointer([]) == ""
}

test_scan_patterns if {
	scan.findings("token sha256~abcdefghijklmnopqrstuvwxyz012345") == {"openshift_token"}
	"jwt" in scan.findings("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXZhbHVl")
	scan.findings("-----BEGIN RSA PRIVATE KEY-----\nMIIE") == {"private_key"}
	scan.findings("AKIAABCDEFGHIJKLMNOP") == {"aws_access_key"}
	scan.findings("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == {"github_token"}
	scan.findings("xoxb-123456789012-abc") == {"slack_token"}
	"password_assignment" in scan.findings("DB_PASSWORD=hunter2hunter2")
	scan.findings("the pod restarted 3 times, see kubectl describe") == set()
	scan.findings(42) == set()
}
