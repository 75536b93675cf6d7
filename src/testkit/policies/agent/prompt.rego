package belay.prompt

import rego.v1

import data.belay.test

reasons contains {"rule": "test.prompt.secret", "message": sprintf("the prompt contains %s", [concat(", ", sort({f.kind | some f in input.content.findings}))]), "severity": "high"} if count(input.content.findings) > 0

verdict := "deny" if count(reasons) > 0

else := "allow"

decision := test.document(verdict, [r | some r in reasons], [])
