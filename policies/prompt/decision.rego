# Entrypoint belay/prompt/decision: POST /v1/prompts:check.
package belay.prompt

import rego.v1

import data.belay.lib.decision as doc
import data.belay.prompt.rules

violations := rules.violations

# METADATA
# title: prompt face (POST /v1/prompts:check)
# entrypoint: true
decision := doc.document(violations)
