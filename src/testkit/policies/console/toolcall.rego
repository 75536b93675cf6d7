# The console tests' tool-call face (bundled with src/testkit/policies/admission's
# admission rules): deleting through an MCP tool needs a human (use case 1).
package belay.toolcall

import rego.v1

reasons contains {"rule": "test.tool.delete", "message": sprintf("deleting %s %s/%s needs a human", [input.tool.arguments.kind, input.tool.arguments.namespace, input.tool.arguments.name]), "severity": "high"} if input.tool.name == "resources_delete"

verdict := "defer" if count(reasons) > 0

else := "allow"

decision := {
	"decision": verdict,
	"reasons": [r | some r in reasons],
	"fixes": [],
	"redact": [],
	"warnings": [],
	"approval": {"groups": ["belay:approvers"], "ttl": "15m", "risk": "high"},
	"mode": "approve",
	"wouldBe": null,
}
