package belay.authorization

import rego.v1

import data.belay.test

reads := {"get", "list", "watch"}

reasons contains {"rule": "test.secrets.locked", "message": sprintf("agents may not read Secrets in namespace \"%s\"", [input.resource.namespace]), "severity": "high"} if {
	input.resource.resource == "secrets"
	input.action.verb in reads
	input.resource.namespace == "locked"
}

reasons contains {"rule": "test.secrets.production", "message": sprintf("reading Secret \"%s\" in a production namespace needs a human", [input.resource.name]), "severity": "high"} if {
	input.resource.resource == "secrets"
	input.action.verb in reads
	input.resource.namespace == "prod-billing"
}

verdict := "deny" if {
	some r in reasons
	r.rule == "test.secrets.locked"
} else := "defer" if {
	count(reasons) > 0
} else := "allow"

decision := test.document(verdict, [r | some r in reasons], [])
