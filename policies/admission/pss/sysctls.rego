# Baseline sysctls: only the safe sysctls (podSecurity.safeSysctls).
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.util

forbidden_sysctls := {n |
	some s in pod_sc.sysctls
	n := object.get(s, "name", "")
	not n in cfg.podSecurity.safeSysctls
}

violations contains violation(
	"pss.baseline.sysctls", "sysctls", "baseline", "deny", "high",
	concat("", [
		"the pod must not set ", util.plural(count(forbidden_sysctls), "sysctl ", "sysctls "), util.qlist(forbidden_sysctls),
		"; only the namespaced, node-isolated safe sysctls are allowed",
	]),
	[],
) if {
	applies
	baseline_on
	count(forbidden_sysctls) > 0
}
