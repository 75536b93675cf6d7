# procMount: baseline procMount (relaxed for pods in a user namespace,
# hostUsers: false) and restricted procMount_restricted (Default only, even in
# a user namespace).
package belay.admission.pss

import rego.v1

# procMount (baseline): relaxed for pods in a user namespace (hostUsers: false)
unmasked_ctrs := {c.name |
	some c in containers
	pm := setting(c.sc, "procMount")
	pm != null
	pm != "Default"
}

violations contains violation(
	"pss.baseline.proc_mount", "procMount", "baseline", "deny", "high",
	concat("", [
		ctrs(unmasked_ctrs),
		" must not set securityContext.procMount to anything but Default (unless the pod uses a user namespace, hostUsers: false); remove it",
	]),
	[],
) if {
	applies
	baseline_on
	not spec.hostUsers == false
	count(unmasked_ctrs) > 0
}

# procMount_restricted: Default only, even in a user namespace
violations contains violation(
	"pss.restricted.proc_mount_restricted", "procMount_restricted", "restricted", "deny", "medium",
	concat("", [
		ctrs(unmasked_ctrs),
		" must not set securityContext.procMount to anything but Default; remove it",
	]),
	[],
) if {
	applies
	restricted_on
	count(unmasked_ctrs) > 0
}
