# The benchmark's comparator: what a team would deploy instead of belay, OPA
# as an admission webhook the way OPA's Kubernetes admission tutorial
# (kube-mgmt) sets it up. `opa run --server` answers `POST /` with the default
# decision, data.system.main, given the whole AdmissionReview as input, and
# returns an AdmissionReview.
#
# It evaluates the very same Rego as belay (policies/, loaded beside this
# file) on the same normalised input belay builds in src/input/admission.ts,
# so the two differ only in the engine and the server around it. Like belay,
# non-agents are admitted without evaluating the policy; an allow with fixes
# is answered with the JSON patch (what an OPA mutating webhook would send;
# belay additionally schema-checks the fixed object and re-evaluates it).
package system

import rego.v1

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}

req := input.request

# --- the normalised input (policies/README.md) --------------------------------

user := object.get(req, "userInfo", {})

username := object.get(user, "username", "")

groups := object.get(user, "groups", [])

extra := object.get(user, "extra", {})

agents := a if {
	a := data.belay.config.agents
	is_object(a)
} else := {}

sa_prefix := "system:serviceaccount:"

default service_account := null

service_account := {"namespace": parts[0], "name": parts[1]} if {
	startswith(username, sa_prefix)
	parts := split(substring(username, count(sa_prefix), -1), ":")
	count(parts) == 2
	parts[0] != ""
	parts[1] != ""
}

default is_agent := false

is_agent if username in object.get(agents, "usernames", [])

is_agent if service_account.namespace in object.get(agents, "serviceAccountNamespaces", [])

is_agent if concat(":", [service_account.namespace, service_account.name]) in object.get(agents, "serviceAccounts", [])

is_agent if {
	some g in groups
	g in object.get(agents, "groups", [])
}

actor := object.union(
	{"username": username, "groups": groups, "extra": extra, "agent": is_agent, "serviceAccount": service_account},
	{k: v | k := "uid"; v := user.uid; is_string(v); v != ""},
)

verbs := {"CREATE": "create", "UPDATE": "update", "DELETE": "delete", "CONNECT": "connect"}

dry_run := object.get(req, "dryRun", false) == true

object_or_null(key) := v if {
	v := req[key]
	is_object(v)
} else := null

new_object := object_or_null("object")

old_object := object_or_null("oldObject")

subject := new_object if new_object != null
else := old_object

subject_name := n if {
	n := subject.metadata.name
	is_string(n)
} else := ""

ns_name := object.get(req, "namespace", "")

namespace := {"name": ns_name} if ns_name != ""
else := null

context_keys := {
	"workflow": "belay.dev/workflow",
	"confidence": "belay.dev/confidence",
	"rationale": "belay.dev/rationale",
	"remediationTarget": "belay.dev/remediation-target",
	"cluster": "belay.dev/cluster",
}

annotations := a if {
	a := subject.metadata.annotations
	is_object(a)
} else := {}

context_value("confidence", v) := n if {
	is_string(v)
	v != ""
	n := to_number(v)
}

context_value(field, v) := substring(v, 0, 1024) if {
	field != "confidence"
	is_string(v)
	v != ""
}

from_annotations := {field: x | some field, key in context_keys; x := context_value(field, annotations[key])}

from_extra := {field: x | some field, key in context_keys; x := context_value(field, extra[key][0])}

agent_context := object.union(from_annotations, {"source": "annotation"}) if count(from_annotations) > 0
else := object.union(from_extra, {"source": "userinfo"}) if count(from_extra) > 0
else := {}

policy_input := {
	"face": "admission",
	"actor": actor,
	"action": {"operation": req.operation, "verb": verbs[req.operation], "subresource": object.get(req, "subResource", ""), "dryRun": dry_run},
	"resource": {
		"group": req.kind.group,
		"version": req.kind.version,
		"kind": req.kind.kind,
		"resource": req.resource.resource,
		"namespace": ns_name,
		"name": object.get(req, "name", subject_name),
	},
	"object": new_object,
	"oldObject": old_object,
	"options": object_or_null("options"),
	"dryRun": dry_run,
	"namespace": namespace,
	"context": agent_context,
	"tool": null,
	"content": null,
}

decision := d if {
	d := data.belay.admission.decision with input as policy_input
}

# --- the answer -----------------------------------------------------------------

fixes := object.get(decision, "fixes", [])

warnings := object.get(decision, "warnings", [])

first_message := m if {
	m := decision.reasons[0].message
} else := "denied by policy"

response := {"uid": req.uid, "allowed": true} if not is_agent

response := {"uid": req.uid, "allowed": false, "status": {"code": 500, "message": "policy returned no decision (fail closed)"}} if {
	is_agent
	not decision
}

response := {"uid": req.uid, "allowed": true, "warnings": warnings} if {
	is_agent
	decision.decision == "allow"
	count(fixes) == 0
}

response := {"uid": req.uid, "allowed": true, "warnings": warnings, "patchType": "JSONPatch", "patch": base64.encode(json.marshal(fixes))} if {
	is_agent
	decision.decision == "allow"
	count(fixes) > 0
}

response := {"uid": req.uid, "allowed": false, "warnings": warnings, "status": {"code": 403, "message": first_message}} if {
	is_agent
	decision.decision != "allow"
}
