package belay.toolcall

import rego.v1

import data.belay.test

manifest := yaml.unmarshal(input.tool.arguments.resource) if is_string(input.tool.arguments.resource)

manifest := input.tool.arguments.resource if is_object(input.tool.arguments.resource)

reasons contains {"rule": "test.tool.exec", "message": "agents may not exec into pods", "severity": "high"} if input.tool.name == "pods_exec"

reasons contains {"rule": "test.tool.delete", "message": sprintf("deleting %s in \"%s\" (cluster \"%s\") needs a human", [input.resource.kind, input.resource.namespace, input.context.cluster]), "severity": "high"} if input.tool.name == "resources_delete"

reasons contains {"rule": "test.tool.secret_read", "message": "raw Secret values would reach the model", "severity": "high"} if {
	input.tool.name == "resources_get"
	input.tool.arguments.kind == "Secret"
}

reasons contains {"rule": "test.tool.credential", "message": "the arguments carry a credential", "severity": "high"} if count(input.tool.findings) > 0

reasons contains {"rule": "test.tool.cluster_admin", "message": "binding cluster-wide rights needs a human", "severity": "critical"} if manifest.kind == "ClusterRoleBinding"

reasons contains {"rule": "test.tool.no_system", "message": "nothing may be bound in kube-system", "severity": "critical"} if manifest.metadata.namespace == "kube-system"

verdict := "deny" if {
	some r in reasons
	r.rule in {"test.tool.exec", "test.tool.no_system"}
} else := "defer" if {
	count(reasons) > 0
} else := "allow"

decision := test.document(verdict, [r | some r in reasons], [])
