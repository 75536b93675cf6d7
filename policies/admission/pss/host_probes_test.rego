# Pod Security: hostProbesAndHostLifecycle.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_host_probes_and_lifecycle if {
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"readinessProbe": {"tcpSocket": {"host": "node", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"startupProbe": {"httpGet": {"host": "x", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"lifecycle": {"preStop": {"httpGet": {"host": "x", "port": 80}}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"lifecycle": {"postStart": {"tcpSocket": {"host": "x", "port": 80}}}}), b)
	test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"host": "", "port": 80}}}), r) == set()
	test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"port": 80}}, "readinessProbe": {"exec": {"command": ["true"]}}}), r) == set()
}

host_probes_and_lifecycle_c(extra) := test.restricted_with({"containers": [test.container_with(extra)]})
