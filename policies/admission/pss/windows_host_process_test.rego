# Pod Security: windowsHostProcess.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_windows_host_process if {
	"pss.baseline.windows_host_process" in test.pss_rules(windows_host_process_win({"windowsOptions": {"hostProcess": true}}), b)
	"pss.baseline.windows_host_process" in test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "windowsOptions": {"hostProcess": true}}}), b)
	test.pss_rules(windows_host_process_win({"windowsOptions": {"hostProcess": false}}), b) == set()
}

windows_host_process_win(sc) := test.restricted_with({"os": {"name": "windows"}, "containers": [test.container_with({"securityContext": sc})]})
