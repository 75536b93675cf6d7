# Sensitive kinds.
package belay.admission.sensitive_test

import rego.v1

import data.belay.test

test_sensitive_kinds_in_production if {
	sts := {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}}
	d := test.admit(test.update(sts, sts, "prod-a"))
	test.rules(d) == {"sensitive.kind"}
	test.admit(test.update(sts, sts, "team-a")).decision == "allow"
}

test_cluster_wide_sensitive_kinds_always if {
	node := {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"unschedulable": true}}
	d := test.admit(test.update(node, node, ""))
	test.rules(d) == {"sensitive.kind"}
	contains(d.reasons[0].message, "changing Node \"n1\" cluster-wide affects every pod scheduled on it")
	"sensitive.kind" in test.rules(test.admit(test.delete(node, "")))
}

test_sensitive_deletes_left_to_destructive if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-a"}}
	not "sensitive.kind" in test.rules(test.admit(test.delete(ns, "")))
	"sensitive.kind" in test.rules(test.admit(test.admission("CREATE", ns, "")))
}
