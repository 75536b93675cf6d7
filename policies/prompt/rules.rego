# Outgoing prompts (use case 5): a prompt that carries credentials (an
# OpenShift sha256~ token, a service account JWT, a private key, …) defers
# so the user can remove them before anything leaves for the LLM.
#
# The gateway scans the prompt itself (src/scan: a maintained rule set plus
# Kubernetes-specific detectors and an entropy check) and hands policy the
# findings with the text already redacted (input.content.findings), so a
# secret never reaches policy, the decision log or an approval. The policy
# tests build prompt inputs through the same scan. A prompt without findings
# was not scanned (a caller of the bare policy): policy cannot tell what it
# carries and refuses it, rather than guessing with a second detector that
# would disagree with the gateway's.
package belay.prompt.rules

import rego.v1

import data.belay.lib.findings as gateway

scanned if gateway.scanned(input.content)

findings := gateway.well_formed(input.content.findings) if scanned

# What each finding kind of the gateway's scanner is, for people (lib/findings.rego).
finding_text := gateway.kinds

described := gateway.describe(findings)

where := concat("", [" (line", plural_s, " ", concat(", ", [format_int(l, 10) | some l in lines]), ")"]) if {
	count(lines) > 0
} else := ""

lines := sort({f.line | some f in findings; is_number(f.line)})

plural_s := "s" if count(lines) > 1

default plural_s := ""

violations contains {
	"rule": "prompt.secret",
	"message": concat("", [
		"the prompt contains ", described, where,
		"; remove or redact it before sending (a live credential must not reach an external model)",
	]),
	"severity": "high",
	"action": "defer",
} if count(findings) > 0

violations contains {
	"rule": "prompt.unscanned",
	"message": "the prompt reached policy without belay's scan (input.content.findings), so whether it carries credentials is unknown; send it through belay's POST /v1/prompts:check",
	"severity": "high",
	"action": "deny",
} if not scanned
