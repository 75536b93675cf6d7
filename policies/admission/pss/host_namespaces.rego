# Baseline hostNamespaces: no hostNetwork, hostPID or hostIPC.
package belay.admission.pss

import rego.v1

host_namespace_fields := [f | some f in ["hostNetwork", "hostPID", "hostIPC"]; spec[f] == true]

violations contains violation(
	"pss.baseline.host_namespaces", "hostNamespaces", "baseline", "deny", "high",
	concat("", [
		"the pod must not set ", concat(", ", [concat("", [f, "=true"]) | some f in host_namespace_fields]),
		"; sharing the node's network, PID or IPC namespace is forbidden, remove the field",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_namespace_fields) > 0
}
