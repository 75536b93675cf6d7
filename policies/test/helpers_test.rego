# Input builders shared by the Rego unit tests (data.belay.test). The file is
# named *_test.rego so that opa build leaves it out of the bundle (make bundle
# passes --ignore '*_test.rego'), like every test beside the rules.
package belay.test

import rego.v1

agent := {
	"username": "system:serviceaccount:agents:remediator",
	"uid": "1",
	"groups": ["system:serviceaccounts", "system:serviceaccounts:agents", "system:authenticated"],
	"agent": true,
	"serviceAccount": {"namespace": "agents", "name": "remediator"},
}

human := {"username": "alice@example.com", "groups": ["developers", "system:authenticated"], "agent": false}

# The images the builders use run as a numeric non-root UID, as
# registry.k8s.io/pause does (its Dockerfile: USER 65535:65535), so the
# runAsNonRoot fix is safe for them; the image-aware tests state other facts
# (pss/run_as_test.rego).
non_root_image := {"known": true, "user": "65535:65535", "uid": 65535, "named": false, "nonRoot": true}

images := {"i": non_root_image, "registry.k8s.io/pause": non_root_image}

# admission(op, obj, ns) is an admission input for an agent writing obj.
admission(op, obj, ns) := {
	"face": "admission",
	"actor": agent,
	"action": {"operation": op, "verb": lower(op), "subresource": "", "dryRun": false},
	"resource": {
		"group": "", "version": "v1", "kind": obj.kind, "resource": "",
		"namespace": ns, "name": object.get(obj, ["metadata", "name"], ""),
	},
	"object": obj,
	"oldObject": null,
	"dryRun": false,
	"namespace": {"name": ns},
	"images": images,
}

# update(old, new, ns) is an UPDATE of old into new.
update(old, new, ns) := object.union(admission("UPDATE", new, ns), {"oldObject": old})

# delete(old, ns) is a DELETE of old.
delete(old, ns) := object.union(admission("DELETE", old, ns), {"object": null, "oldObject": old})

labelled(inp, labels) := object.union(inp, {"namespace": {"labels": labels}})

as_actor(inp, actor) := object.union(object.remove(inp, ["actor"]), {"actor": actor})

with_context(inp, ctx) := object.union(inp, {"context": ctx})

rules(d) := {r.rule | some r in d.reasons}

admit(inp) := d if {
	d := data.belay.admission.decision with input as inp
}

# --- Pod Security ---------------------------------------------------------------

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

restricted_container := {
	"name": "c1",
	"image": "registry.k8s.io/pause",
	"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
}

restricted_spec := {
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [restricted_container],
	"initContainers": [object.union(restricted_container, {"name": "i1"})],
}

# restricted_with(patch) replaces top-level fields of the restricted pod spec.
restricted_with(patch) := object.union(object.remove(restricted_spec, object.keys(patch)), patch)

# container_with(patch) is the restricted container with patch merged in.
container_with(patch) := object.union(restricted_container, patch)

pss(spec, level) := admit(labelled(admission("CREATE", pod(spec), "team-a"), {"pod-security.kubernetes.io/enforce": level}))

pss_rules(spec, level) := rules(pss(spec, level))

# --- one request per outcome (the decision document and trust ladder tests) -----

dep := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod-a"}, "spec": {"replicas": 2}}

# a defer (delete in production), a deny (host PID), a fix (bare pod) and an allow
defer_input := delete(dep, "prod-a")

deny_input := admission("CREATE", pod({"hostPID": true, "containers": [{"name": "c", "image": "i"}]}), "team-a")

fix_input := admission("CREATE", pod({"containers": [{"name": "c", "image": "i"}]}), "team-a")

allow_input := admission("CREATE", configmap, "team-a")

# --- objects -------------------------------------------------------------------

configmap := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}

scale(n) := {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": n}}
