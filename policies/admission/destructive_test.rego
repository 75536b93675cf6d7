# Destructive operations: deletes in production, Namespaces and CRDs, scaling to zero.
package belay.admission.destructive_test

import rego.v1

import data.belay.test

deployment(ns, replicas) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns}, "spec": {"replicas": replicas}}

test_delete_in_production_defers_and_names_what_is_lost if {
	d := test.admit(test.delete(deployment("prod-billing", 3), "prod-billing"))
	d.decision == "defer"
	d.reasons[0].rule == "destructive.delete_production"
	contains(d.reasons[0].message, "production namespace \"prod-billing\"")
	contains(d.reasons[0].message, "its 3 pods")
}

test_delete_elsewhere_is_allowed if {
	test.admit(test.delete(deployment("team-a", 3), "team-a")).decision == "allow"
}

test_delete_everywhere_when_configured if {
	d := test.admit(test.delete(deployment("team-a", 3), "team-a")) with data.belay.config.destructive.everywhere as true
	d.decision == "defer"
}

test_delete_kinds if {
	every k in ["StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PersistentVolumeClaim"] {
		obj := {"apiVersion": "v1", "kind": k, "metadata": {"name": "x"}}
		"destructive.delete_production" in test.rules(test.admit(test.delete(obj, "prod-a")))
	}
	not "destructive.delete_production" in test.rules(test.admit(test.delete({"kind": "ConfigMap", "metadata": {"name": "x"}}, "prod-a")))
}

test_pvc_message_names_the_storage if {
	pvc := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "50Gi"}}}}
	contains(test.admit(test.delete(pvc, "prod-a")).reasons[0].message, "the volume (50Gi) and its data")
}

test_only_bare_pods_are_destructive if {
	bare := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
	owned := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": true}]}}
	"destructive.delete_production" in test.rules(test.admit(test.delete(bare, "prod-a")))
	test.admit(test.delete(owned, "prod-a")).decision == "allow"
}

test_deletecollection if {
	inp := object.union(test.delete({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ""}}, "prod-a"), {"action": {"verb": "deletecollection"}})
	d := test.admit(inp)
	contains(d.reasons[0].message, "deleting every Deployment in the collection")
}

test_delete_namespace_always_defers if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
	d := test.admit(test.delete(ns, ""))
	d.decision == "defer"
	test.rules(d) == {"destructive.delete_namespace"}
	contains(d.reasons[0].message, "deleting Namespace \"team-a\" would delete every object in it")
	contains(test.admit(test.delete(object.union(ns, {"metadata": {"name": "prod-a"}}), "")).reasons[0].message, "(production)")
}

test_delete_crd_always_defers if {
	crd := {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}}
	d := test.admit(test.delete(crd, ""))
	test.rules(d) == {"destructive.delete_crd"}
}

test_scale_to_zero_in_production if {
	d := test.admit(test.update(deployment("prod-a", 3), deployment("prod-a", 0), "prod-a"))
	d.decision == "defer"
	test.rules(d) == {"destructive.scale_to_zero"}
	contains(d.reasons[0].message, "(3 now)")
	test.admit(test.update(deployment("team-a", 3), deployment("team-a", 0), "team-a")).decision == "allow"
	test.admit(test.update(deployment("prod-a", 3), deployment("prod-a", 1), "prod-a")).decision == "allow"
	test.admit(test.update(deployment("prod-a", 0), deployment("prod-a", 0), "prod-a")).decision == "allow"
}

test_scale_to_zero_from_default_replicas if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}}
	test.admit(test.update(old, deployment("prod-a", 0), "prod-a")).decision == "defer"
}

scale(n) := test.scale(n)

test_scale_subresource_to_zero if {
	inp := {
		"actor": test.agent,
		"action": {"operation": "UPDATE", "verb": "update", "subresource": "scale"},
		"resource": {"group": "apps", "kind": "Scale", "resource": "deployments", "namespace": "prod-a", "name": "web"},
		"object": scale(0), "oldObject": scale(2),
	}
	d := test.admit(inp)
	test.rules(d) == {"destructive.scale_to_zero"}
	contains(d.reasons[0].message, "scaling Deployment \"web\"")
}
