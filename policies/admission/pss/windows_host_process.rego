# Baseline windowsHostProcess: no Windows HostProcess containers.
package belay.admission.pss

import rego.v1

host_process(sc) if sc.windowsOptions.hostProcess == true

default host_process_pod := false

host_process_pod if host_process(pod_sc)

host_process_ctrs := {c.name | some c in containers; host_process(c.sc)}

violations contains violation(
	"pss.baseline.windows_host_process", "windowsHostProcess", "baseline", "deny", "critical",
	concat("", [
		setters(host_process_pod, host_process_ctrs),
		" must not set securityContext.windowsOptions.hostProcess=true; Windows HostProcess containers have full access to the node",
	]),
	[],
) if {
	applies
	baseline_on
	any_host_process
}

any_host_process if host_process_pod

any_host_process if count(host_process_ctrs) > 0
