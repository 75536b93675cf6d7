# Baseline privileged: no privileged containers.
package belay.admission.pss

import rego.v1

privileged_ctrs := {c.name | some c in containers; c.sc.privileged == true}

violations contains violation(
	"pss.baseline.privileged", "privileged", "baseline", "deny", "critical",
	concat("", [
		ctrs(privileged_ctrs),
		" must not set securityContext.privileged=true; remove it and grant only the specific capability the workload needs",
	]),
	[],
) if {
	applies
	baseline_on
	count(privileged_ctrs) > 0
}
