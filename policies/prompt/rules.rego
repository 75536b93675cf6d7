# Outgoing prompts (use case 5): a prompt that carries credentials (an
# OpenShift sha256~ token, a service account JWT, a private key, …) defers
# so the user can remove them before anything leaves for the LLM.
package belay.prompt.rules

import rego.v1

import data.belay.lib.scan

text := t if {
	t := input.content.text
	is_string(t)
} else := t if {
	t := input.content.value
	is_string(t)
} else := ""

findings := scan.findings(text)

violations contains {
	"rule": "prompt.secret",
	"message": concat("", [
		"the prompt contains ", scan.describe(findings),
		"; remove or redact it before sending (a live credential must not reach an external model)",
	]),
	"severity": "high",
	"action": "defer",
} if count(findings) > 0
