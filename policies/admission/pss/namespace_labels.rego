# An agent must not loosen Pod Security by relabelling a namespace, nor create
# one below the default level.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util

pss_labels(o) := {k: v |
	some k, v in object.get(o, ["metadata", "labels"], {})
	startswith(k, "pod-security.kubernetes.io/")
}

violations contains {
	"rule": "pss.namespace_labels",
	"message": concat("", [
		req.subject, ": agents must not change pod-security.kubernetes.io/* labels (Pod Security levels); ",
		"ask a platform owner to change the namespace's level",
	]),
	"severity": "high",
	"action": "defer",
	"fixes": [],
} if {
	req.agent
	req.kind == "Namespace"
	req.operation == "UPDATE"
	pss_labels(req.old_or_empty) != pss_labels(req.obj_or_empty)
}

violations contains {
	"rule": "pss.namespace_labels",
	"message": concat("", [
		req.subject, ": agents must not create namespaces with a Pod Security level below ",
		util.q(cfg.podSecurity.default), "; ask a platform owner",
	]),
	"severity": "high",
	"action": "defer",
	"fixes": [],
} if {
	req.agent
	req.kind == "Namespace"
	req.operation == "CREATE"
	raw := pss_labels(req.obj_or_empty)[cfg.podSecurity.labelKey]
	level_rank[label_level(raw)] < level_rank[cfg.podSecurity.default]
}

level_rank := {"privileged": 0, "baseline": 1, "restricted": 2}
