# A small policy for the gateway's own tests: the object's labels choose the
# answer, so each test states the case it exercises.
package belay.admission

import rego.v1

label(name) := input.object.metadata.labels[name]

reasons contains {"rule": "test.deny", "message": sprintf("%s %s is labelled deny", [input.resource.kind, input.resource.name]), "severity": "high"} if label("test/decision") == "deny"

reasons contains {"rule": "test.defer", "message": "this change needs a human", "severity": "medium"} if label("test/decision") == "defer"

reasons contains {"rule": "test.fix", "message": "the object needs the fixed label", "severity": "low"} if {
	label("test/fix") == "yes"
	not label("fixed")
}

# A fix that does not satisfy the policy: the gateway must refuse to send it.
reasons contains {"rule": "test.badfix", "message": "the object needs a fix that does not help", "severity": "low"} if label("test/fix") == "useless"

# A fix that breaks the schema: replicas as a string.
reasons contains {"rule": "test.schemafix", "message": "the object gets a malformed fix", "severity": "low"} if {
	label("test/fix") == "schema"
	not label("fixed")
}

reasons contains {"rule": "test.exec", "message": "exec by agents is refused in tests", "severity": "high"} if input.action.subresource == "exec"

reasons contains {"rule": "test.delete", "message": sprintf("deleting %s needs approval", [input.resource.name]), "severity": "high"} if input.action.operation == "DELETE"

fixes contains {"op": "add", "path": "/metadata/labels/fixed", "value": "true"} if {
	label("test/fix") == "yes"
	not label("fixed")
}

fixes contains {"op": "add", "path": "/metadata/labels/unrelated", "value": "x"} if label("test/fix") == "useless"

fixes contains {"op": "add", "path": "/spec/replicas", "value": "three"} if {
	label("test/fix") == "schema"
	not label("fixed")
}

verdict := "deny" if {
	some r in reasons
	r.rule in {"test.deny", "test.exec"}
} else := "defer" if {
	some r in reasons
	r.rule in {"test.defer", "test.delete"}
} else := "allow"

warnings contains "test warning: looked at by the test policy" if label("test/warn") == "yes"

warnings contains sprintf("belay fixed: %s (%s)", [r.message, r.rule]) if {
	some r in reasons
	r.rule in {"test.fix", "test.badfix", "test.schemafix"}
}

default mode := "approve"

mode := data.belay.config.mode

decision := {
	"decision": verdict,
	"reasons": [r | some r in reasons],
	"fixes": [f | some f in fixes],
	"redact": [],
	"warnings": [w | some w in warnings],
	"approval": {"groups": ["belay:approvers"], "ttl": "15m", "risk": "high"},
	"mode": mode,
	"wouldBe": null,
}
