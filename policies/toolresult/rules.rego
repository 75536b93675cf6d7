# Tool results on their way to the model (use case 2): Secret values are
# redacted (each value of data/stringData, and the last-applied annotation
# that repeats them). The gateway scans every result itself (src/scan: JSON,
# YAML, plain text and MCP content alike), replaces exactly the secret spans
# before the model sees them, and hands policy its findings
# (input.content.findings); policy explains them (toolresult.credential, a
# warning; an operator may make it defer with data.belay.config.rules).
# An input that did not come through the gateway has no findings: policy
# then falls back to its own patterns (lib/scan.rego), redacting string
# values by pointer and deferring text it cannot redact.
package belay.toolresult.rules

import rego.v1

import data.belay.lib.findings as gateway
import data.belay.lib.scan
import data.belay.lib.util

scanned if gateway.scanned(input.content)

default value := null

value := input.content.value

text := t if {
	t := input.content.text
	is_string(t)
} else := t if {
	# The gateway hands a result that is neither JSON nor a YAML document as a string value.
	t := input.content.value
	is_string(t)
} else := ""

last_applied := "kubectl.kubernetes.io/last-applied-configuration"

# Secret objects anywhere in the result (a Secret, a list's items, …):
# [path, node] pairs.
secrets contains [path, node] if {
	walk(value, [path, node])
	is_object(node)
	node.kind == "Secret"
}

secrets contains [["items", i], node] if {
	value.kind == "SecretList"
	some i, node in value.items
	is_object(node)
}

secret_paths := {s[0] | some s in secrets}

secret_redactions contains util.pointer(array.concat(s[0], [field, key])) if {
	some s in secrets
	some field in ["data", "stringData"]
	some key, _ in object.get(s[1], field, {})
}

secret_redactions contains util.pointer(array.concat(s[0], ["metadata", "annotations", last_applied])) if {
	some s in secrets
	is_string(s[1].metadata.annotations[last_applied])
}

secret_names := {util.first([object.get(s[1], ["metadata", "name"], ""), "(unnamed)"]) | some s in secrets}

violations contains {
	"rule": "toolresult.secret_data",
	"message": concat("", [
		"the result holds ", util.plural(count(secret_names), "Secret ", "Secrets "), util.qlist(secret_names),
		"; its values were replaced before reaching the model",
	]),
	"severity": "high",
	"action": "fix",
	"redact": sort(secret_redactions),
} if count(secret_redactions) > 0

# --- the gateway's findings ----------------------------------------------------

# Secrets in a Secret's values are told by toolresult.secret_data.
secret_value_rules := {"belay/secret-data", "belay/secret-last-applied"}

credentials := [f |
	some f in gateway.well_formed(input.content.findings)
	not f.rule in secret_value_rules
] if scanned

violations contains {
	"rule": "toolresult.credential",
	"message": concat("", [
		"the result contains ", gateway.describe(credentials),
		"; belay replaced ", util.plural(count(credentials), "it", "them"), " with [REDACTED] before the result reached the model",
	]),
	"severity": "high",
	"action": "warn",
} if count(credentials) > 0

# --- without the gateway's scan --------------------------------------------------

value_leaks := {l |
	not scanned
	some l in scan.leaks(value)
	not util.pointer(l[0]) in secret_redactions
	not inside_secret(l[0])
}

inside_secret(p) if {
	some sp in secret_paths
	count(p) > count(sp)
	array.slice(p, 0, count(sp)) == sp
}

violations contains {
	"rule": "toolresult.credential",
	"message": concat("", [
		"the result contains ", scan.describe({id | some l in value_leaks; some id in l[1]}),
		"; the values were replaced before reaching the model",
	]),
	"severity": "high",
	"action": "fix",
	"redact": sort({util.pointer(l[0]) | some l in value_leaks}),
} if count(value_leaks) > 0

text_findings := scan.findings(text) if not scanned

violations contains {
	"rule": "toolresult.credential_in_text",
	"message": concat("", [
		"the text result contains ", scan.describe(text_findings),
		"; review it before it reaches the model, or ask the tool for structured output belay can redact",
	]),
	"severity": "high",
	"action": "defer",
} if count(text_findings) > 0
