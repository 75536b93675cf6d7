# A small policy for the authorization and agent API tests: each rule
# names the case it stands for, so a test states what it exercises.
package belay.test

import rego.v1

default mode := "approve"

mode := data.belay.config.mode

final(_) := "allow" if mode == "observe"

final(verdict) := verdict if mode != "observe"

would_be(verdict) := verdict if final(verdict) != verdict

would_be(verdict) := null if final(verdict) == verdict

# The trust ladder in miniature: observe never blocks.
document(verdict, reasons, redact) := {
	"decision": final(verdict),
	"reasons": reasons,
	"fixes": [],
	"redact": redact,
	"warnings": [sprintf("belay observe: would %s", [verdict]) | mode == "observe"; verdict != "allow"],
	"approval": {"groups": ["belay:approvers"], "ttl": "15m", "risk": "high"},
	"mode": mode,
	"wouldBe": would_be(verdict),
}
