# Entrypoint belay/toolcall/decision: POST /v1/tool-calls:evaluate. The
# admission and authorization rules judge the normalised tool call; fixes
# are relative to the object the tool would write (`object`, or the tool's
# resource argument).
package belay.toolcall

import rego.v1

import data.belay.admission
import data.belay.authorization.rules as reads
import data.belay.lib.decision as doc
import data.belay.toolcall.rules

violations := (admission.violations | reads.violations) | rules.violations

# METADATA
# title: tool-call face (POST /v1/tool-calls:evaluate)
# entrypoint: true
decision := doc.document(violations)
