# The fixes, planned per securityContext: when the securityContext is
# missing, one `add` creates it with every field belay sets there (a
# JSON-patch add to a missing parent would fail), and every violation that
# needs that securityContext carries the same operation.
package belay.admission.pss

import rego.v1

import data.belay.lib.images
import data.belay.lib.podspec as ps

pod_desired contains "runAsNonRoot" if rnr_safe_fix

pod_desired contains "runAsNonRoot" if rnr_uid_fix

pod_desired contains "runAsUser" if rnr_uid_fix

pod_desired contains "seccompProfile" if seccomp_fixable

pod_values := object.union({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, opt_in_values)

opt_in_values := {"runAsUser": images.opt_in_uid} if images.opt_in_uid

opt_in_values := {} if not images.opt_in_uid

pod_fix(_) := [{
	"op": "add",
	"path": concat("", [ps.base, "/securityContext"]),
	"value": {k: pod_values[k] | some k in pod_desired},
}] if not pod_has_sc

pod_fix(field) := [{
	"op": "add",
	"path": concat("", [ps.base, "/securityContext/", field]),
	"value": pod_values[field],
}] if pod_has_sc

# pod_fix_all(fields): the operations that set several pod-level fields.
pod_fix_all(fields) := pod_fix(fields[0]) if not pod_has_sc

pod_fix_all(fields) := [op | some f in fields; some op in pod_fix(f)] if pod_has_sc

container_desired(c) := {f |
	some f in ["allowPrivilegeEscalation", "capabilities"]
	container_wants(c, f)
}

container_wants(c, "allowPrivilegeEscalation") if setting(c.sc, "allowPrivilegeEscalation") == null

container_wants(c, "capabilities") if not "ALL" in drops(c)

container_values := {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}

container_fix(c, _) := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext"]),
	"value": {f: container_values[f] | some f in container_desired(c)},
}] if not c.has_sc

container_fix(c, "allowPrivilegeEscalation") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/allowPrivilegeEscalation"]),
	"value": false,
}] if c.has_sc

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities"]),
	"value": {"drop": ["ALL"]},
}] if {
	c.has_sc
	not is_object(setting(c.sc, "capabilities"))
}

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities/drop"]),
	"value": ["ALL"],
}] if {
	c.has_sc
	caps := setting(c.sc, "capabilities")
	is_object(caps)
	not is_array(object.get(caps, "drop", null))
}

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities/drop/-"]),
	"value": "ALL",
}] if {
	c.has_sc
	is_array(c.sc.capabilities.drop)
}
