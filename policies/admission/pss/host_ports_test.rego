# Pod Security: hostPorts.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_host_ports if {
	"pss.baseline.host_ports" in test.pss_rules(host_ports_ports({"containerPort": 80, "hostPort": 8080}), b)
	test.pss_rules(host_ports_ports({"containerPort": 80, "hostPort": 0}), r) == set()
	test.pss_rules(host_ports_ports({"containerPort": 80}), r) == set()
}

host_ports_ports(p) := test.restricted_with({"containers": [test.container_with({"ports": [p]})]})
