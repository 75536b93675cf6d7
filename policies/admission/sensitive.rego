# Sensitive kinds (Node, StatefulSet, Namespace, PersistentVolume, CRDs, RBAC
# kinds by default): an agent's create/update/delete defers in production,
# and everywhere for the cluster-wide ones (`clusterWideSensitiveKinds`).
# Deletes already judged by the destructive rules are left to them.
package belay.admission.sensitive

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.env
import data.belay.lib.request as req

verbs := {"CREATE": "creating", "UPDATE": "changing", "DELETE": "deleting"}

cluster_wide if req.kind in cfg.clusterWideSensitiveKinds

in_scope if env.production

in_scope if cluster_wide

where := "cluster-wide" if cluster_wide

where := concat("", ["in ", env.where]) if not cluster_wide

violations contains {
	"rule": "sensitive.kind",
	"message": concat("", [
		verbs[req.operation], " ", req.subject, " ", where, " affects ",
		impact, "; ", req.kind, " is a sensitive kind, ask an approver",
	]),
	"severity": "high",
	"action": "defer",
} if {
	req.agent
	req.operation in {"CREATE", "UPDATE", "DELETE"}
	req.kind in cfg.sensitiveKinds
	not handled_elsewhere
	in_scope
}

handled_elsewhere if {
	req.operation == "DELETE"
	req.kind in cfg.destructive.kinds
}

impact := "every pod scheduled on it" if req.kind == "Node"

impact := "who can do what" if req.kind in {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}

impact := "the API of the whole cluster" if req.kind == "CustomResourceDefinition"

impact := "storage other workloads may bind" if req.kind == "PersistentVolume"

impact := "a workload with stable identity and storage" if req.kind == "StatefulSet"

impact := "everything in the namespace" if req.kind == "Namespace"

impact := "the cluster" if not req.kind in {
	"Node", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
	"CustomResourceDefinition", "PersistentVolume", "StatefulSet", "Namespace",
}
