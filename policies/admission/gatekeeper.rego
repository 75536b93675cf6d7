# Gatekeeper Constraints (policies/gatekeeper/, compiled by `make bundle`):
# the violations of every Constraint that matches the request, each with
# rule id gatekeeper.<Kind>/<name> and the template's msg as its message.
# A bundle built without Gatekeeper sources has none.
package belay.admission.gatekeeper

import rego.v1

violations := v if {
	v := data.belay.gatekeeper.all.violations
} else := set()
