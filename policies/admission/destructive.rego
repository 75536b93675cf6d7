# Destructive operations by agents (use case 1): DELETE / deletecollection of
# workloads, PVCs, namespaces and CRDs, and scaling a production workload to
# zero. They defer in production and are allowed elsewhere unless
# `destructive.everywhere` is true; deleting a Namespace or a CRD always
# defers (both take everything inside with them, cluster-wide for a CRD).
package belay.admission.destructive

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.env
import data.belay.lib.request as req
import data.belay.lib.util

in_scope if env.production

in_scope if cfg.destructive.everywhere == true

deleting if {
	req.agent
	req.operation == "DELETE"
	req.subresource == ""
	req.kind in cfg.destructive.kinds
}

# A Pod is only a loss when nothing recreates it.
bare_pod_or_other if req.kind != "Pod"

bare_pod_or_other if {
	req.kind == "Pod"
	not controlled(req.old_or_empty)
}

controlled(o) if {
	some ref in o.metadata.ownerReferences
	ref.controller == true
}

collection if req.verb == "deletecollection"

collection if {
	req.name == ""
	req.kind != "Namespace"
}

violations contains {
	"rule": "destructive.delete_namespace",
	"message": concat("", [
		"deleting Namespace ", util.q(req.namespace), namespace_where,
		" would delete every object in it (workloads, volumes and their data, secrets, config); ",
		"ask an approver, and check you are on the right cluster and namespace",
	]),
	"severity": "critical",
	"action": "defer",
} if {
	deleting
	req.kind == "Namespace"
	"Namespace" in cfg.destructive.alwaysDeferKinds
}

namespace_where := " (production)" if env.production

namespace_where := "" if not env.production

violations contains {
	"rule": "destructive.delete_crd",
	"message": concat("", [
		"deleting CustomResourceDefinition ", util.q(req.name),
		" would delete every ", util.q(req.name), " custom resource in every namespace of the cluster",
		"; ask an approver",
	]),
	"severity": "critical",
	"action": "defer",
} if {
	deleting
	req.kind == "CustomResourceDefinition"
	"CustomResourceDefinition" in cfg.destructive.alwaysDeferKinds
}

violations contains {
	"rule": "destructive.delete_production",
	"message": concat("", [
		what, " in ", env.where, " would lose ", loss(req.kind),
		"; ask an approver, and if you meant a test environment check the target cluster and namespace",
	]),
	"severity": "high",
	"action": "defer",
} if {
	deleting
	not req.kind in cfg.destructive.alwaysDeferKinds
	in_scope
	bare_pod_or_other
}

what := concat("", ["deleting every ", req.kind, " in the collection"]) if collection

what := concat("", ["deleting ", req.subject]) if not collection

loss("Deployment") := concat("", ["its ", replicas_text, " and the service they run"])

loss("ReplicaSet") := concat("", ["its ", replicas_text])

loss("ReplicationController") := concat("", ["its ", replicas_text])

loss("StatefulSet") := concat("", ["its ", replicas_text, " and their stable identities (volumes follow the claim retention policy)"])

loss("DaemonSet") := "the pod it runs on every node"

loss("Job") := "the job's pods and their results"

loss("CronJob") := "all future scheduled runs and the jobs it owns"

loss("Pod") := "a pod no controller recreates"

loss("PersistentVolumeClaim") := concat("", ["the volume", storage_text, " and its data (when the storage class reclaims on delete)"])

loss(k) := concat("", ["the ", k]) if not k in {
	"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet",
	"Job", "CronJob", "Pod", "PersistentVolumeClaim",
}

replicas_text := concat("", [format_int(n, 10), " ", util.plural(n, "pod", "pods")]) if {
	n := req.old_or_empty.spec.replicas
	is_number(n)
} else := "pods"

storage_text := concat("", [" (", s, ")"]) if {
	s := req.old_or_empty.spec.resources.requests.storage
	is_string(s)
} else := ""

# --- scale to zero ----------------------------------------------------------------

replicas_of(o) := n if {
	n := o.spec.replicas
	is_number(n)
}

scaled_to_zero if {
	req.operation == "UPDATE"
	req.subresource == "scale"
	scalable
	replicas_of(req.obj_or_empty) == 0
	old_replicas != 0
}

scaled_to_zero if {
	req.operation == "UPDATE"
	req.subresource == ""
	req.kind in cfg.destructive.scalableKinds
	replicas_of(req.obj_or_empty) == 0
	old_replicas != 0
}

# A Scale whose parent kind is unknown (no resource in the request) is
# treated as scalable.
scalable if req.kind in cfg.destructive.scalableKinds

scalable if req.kind == "Scale"

violations contains {
	"rule": "destructive.scale_to_zero",
	"message": concat("", [
		"scaling ", req.subject, " in ", env.where, " to 0 replicas stops every pod it runs",
		old_replicas_text, "; ask an approver, or scale down without reaching zero",
	]),
	"severity": "high",
	"action": "defer",
} if {
	req.agent
	scalable
	scaled_to_zero
	in_scope
}

# Kubernetes defaults replicas to 1.
old_replicas := n if {
	n := replicas_of(req.old_or_empty)
} else := 1

old_replicas_text := concat("", [" (", format_int(old_replicas, 10), " now)"]) if {
	replicas_of(req.old_or_empty)
} else := ""
