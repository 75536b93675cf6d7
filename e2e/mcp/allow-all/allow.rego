# An allow-everything bundle for the MCP transparency test: every face
# answers allow with nothing to redact, so belay mcp must be invisible.
package belay.allow

import rego.v1

document := {
	"decision": "allow",
	"reasons": [],
	"fixes": [],
	"redact": [],
	"warnings": [],
	"approval": null,
	"mode": "automate",
	"wouldBe": null,
}
