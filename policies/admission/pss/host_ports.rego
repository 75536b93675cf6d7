# Baseline hostPorts: no host ports.
package belay.admission.pss

import rego.v1

host_ports := {[c.name, hp] |
	some c in containers
	some p in c.ctr.ports
	hp := object.get(p, "hostPort", 0)
	hp != 0
	hp != null
}

violations contains violation(
	"pss.baseline.host_ports", "hostPorts", "baseline", "deny", "high",
	concat("", [
		ctrs({x[0] | some x in host_ports}), " must not set hostPort (",
		concat(", ", sort({format_int(x[1], 10) | some x in host_ports; is_number(x[1])})),
		"); expose the port through a Service instead",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_ports) > 0
}
