# Entrypoint belay/toolresult/decision: POST /v1/tool-results:redact.
# `redact` lists JSON pointers into content.value to replace.
package belay.toolresult

import rego.v1

import data.belay.lib.decision as doc
import data.belay.toolresult.rules

violations := rules.violations

# METADATA
# title: tool-result face (POST /v1/tool-results:redact)
# entrypoint: true
decision := doc.document(violations)
