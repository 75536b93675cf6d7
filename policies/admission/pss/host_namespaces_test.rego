# Pod Security: hostNamespaces.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_host_namespaces if {
	"pss.baseline.host_namespaces" in test.pss_rules(test.restricted_with({"hostIPC": true}), b)
	"pss.baseline.host_namespaces" in test.pss_rules(test.restricted_with({"hostNetwork": true}), r)
	test.pss_rules(test.restricted_with({"hostNetwork": false, "hostPID": false}), r) == set()
}
