# Baseline hostProbesAndHostLifecycle: no host in probes or lifecycle hooks.
package belay.admission.pss

import rego.v1

import data.belay.lib.util

probe_handlers := [[p, a] | some p in ["livenessProbe", "readinessProbe", "startupProbe"]; some a in ["httpGet", "tcpSocket"]]

lifecycle_handlers := [["lifecycle", h, a] | some h in ["postStart", "preStop"]; some a in ["httpGet", "tcpSocket"]]

probe_hosts := {[c.name, h] |
	some c in containers
	some path in array.concat(probe_handlers, lifecycle_handlers)
	h := object.get(c.ctr, array.concat(path, ["host"]), "")
	is_string(h)
	h != ""
}

violations contains violation(
	"pss.baseline.host_probes_and_host_lifecycle", "hostProbesAndHostLifecycle", "baseline", "deny", "high",
	concat("", [
		ctrs({x[0] | some x in probe_hosts}), " must not set a host in probes or lifecycle hooks (",
		util.qlist({x[1] | some x in probe_hosts}),
		"); remove the host field so the kubelet targets the pod itself",
	]),
	[],
) if {
	applies
	baseline_on
	count(probe_hosts) > 0
}
