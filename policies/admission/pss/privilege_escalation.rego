# Restricted allowPrivilegeEscalation (not for Windows pods): true is
# denied, unset is fixed to false.
package belay.admission.pss

import rego.v1

ape_true_ctrs := {c.name |
	some c in containers
	v := setting(c.sc, "allowPrivilegeEscalation")
	v != null
	v != false
}

ape_unset := [c | some c in containers; setting(c.sc, "allowPrivilegeEscalation") == null]

violations contains violation(
	"pss.restricted.allow_privilege_escalation", "allowPrivilegeEscalation", "restricted", "deny", "medium",
	concat("", [
		ctrs(ape_true_ctrs),
		" must not set securityContext.allowPrivilegeEscalation=true; set it to false (setuid binaries must not gain privileges)",
	]),
	[],
) if {
	applies
	restricted_on
	not windows
	count(ape_true_ctrs) > 0
}

violations contains violation(
	"pss.restricted.allow_privilege_escalation", "allowPrivilegeEscalation", "restricted", "fix", "medium",
	concat("", [
		ctrs({c.name | some c in ape_unset}),
		" must set securityContext.allowPrivilegeEscalation=false; belay sets it",
	]),
	[op | some c in ape_unset; some op in container_fix(c, "allowPrivilegeEscalation")],
) if {
	applies
	restricted_on
	not windows
	count(ape_unset) > 0
}
