package belay.toolresult

import rego.v1

import data.belay.test

is_secret(v) if v.kind == "Secret"

has_secret if is_secret(input.content.value)

has_secret if {
	some item in input.content.value.items
	is_secret(item)
}

reasons contains {"rule": "test.result.secret", "message": "raw Secret values would reach the model", "severity": "high"} if {
	has_secret
	input.tool.name == "resources_get"
}

reasons contains {"rule": "test.result.withheld", "message": "node logs never reach the model", "severity": "high"} if input.tool.name == "nodes_log"

reasons contains {"rule": "test.result.private_key", "message": "a private key in a result needs a human", "severity": "high"} if {
	some f in input.content.findings
	f.kind == "private-key"
}

redact contains "/data/api.key" if input.content.value.kind == "ConfigMap"

verdict := "deny" if {
	some r in reasons
	r.rule == "test.result.withheld"
} else := "defer" if {
	count(reasons) > 0
} else := "allow"

decision := test.document(verdict, [r | some r in reasons], [p | some p in redact])
