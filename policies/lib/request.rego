# One normalised view of the request, the same for every face, so each rule is
# written once: admission (AdmissionReview), authorization
# (SubjectAccessReview), and the agent gate's tool calls (tool.target /
# tool.arguments, or the tool's entry in data.belay.config.toolcall.tools).
package belay.lib.request

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.identity
import data.belay.lib.util

# --- face -------------------------------------------------------------------

default face := "admission"

face := input.face if is_string(input.face)

is_toolcall if is_object(input.tool)

is_toolcall if face == "toolcall"

# --- tool call ----------------------------------------------------------------

default tool := {}

tool := input.tool if is_object(input.tool)

tool_name := util.first([object.get(tool, "name", "")])

default tool_known := false

tool_known if is_object(cfg.toolcall.tools[tool_name])

tool_spec := s if {
	s := cfg.toolcall.tools[tool_name]
	is_object(s)
} else := {}

target := t if {
	t := tool.target
	is_object(t)
} else := {}

args := a if {
	a := tool.arguments
	is_object(a)
} else := {}

# The object a tool call would write: an object argument, or a YAML/JSON
# string argument (kubernetes-mcp-server passes `resource` as text).
tool_object := o if {
	some key in ["resource", "object", "manifest"]
	o := args[key]
	is_object(o)
} else := o if {
	some key in ["resource", "object", "manifest"]
	is_string(args[key])
	o := yaml.unmarshal(args[key])
	is_object(o)
}

# --- objects ------------------------------------------------------------------

obj := o if {
	o := input.object
	is_object(o)
} else := o if {
	is_toolcall
	o := tool_object
} else := null

old := o if {
	o := input.oldObject
	is_object(o)
} else := null

# --- verb and operation -------------------------------------------------------

op_by_verb := {
	"create": "CREATE", "update": "UPDATE", "patch": "UPDATE", "apply": "UPDATE",
	"delete": "DELETE", "deletecollection": "DELETE", "connect": "CONNECT",
	"get": "GET", "list": "LIST", "watch": "WATCH",
}

verb_by_op := {"CREATE": "create", "UPDATE": "update", "DELETE": "delete", "CONNECT": "connect"}

verb := lower(util.first([
	object.get(input, ["action", "verb"], ""),
	object.get(target, "verb", ""),
	object.get(tool_spec, "verb", ""),
	object.get(verb_by_op, upper(util.first([object.get(input, ["action", "operation"], "")])), ""),
]))

operation := upper(util.first([
	object.get(input, ["action", "operation"], ""),
	object.get(op_by_verb, verb, ""),
	upper(verb),
]))

writes := {"CREATE", "UPDATE", "DELETE", "CONNECT"}

is_write if operation in writes

subresource := util.first([
	object.get(input, ["action", "subresource"], ""),
	object.get(input, ["resource", "subresource"], ""),
	object.get(target, "subresource", ""),
	object.get(tool_spec, "subresource", ""),
])

# --- resource, kind, group ----------------------------------------------------

kind_by_resource := {
	"pods": "Pod", "deployments": "Deployment", "replicasets": "ReplicaSet",
	"statefulsets": "StatefulSet", "daemonsets": "DaemonSet", "jobs": "Job",
	"cronjobs": "CronJob", "replicationcontrollers": "ReplicationController",
	"podtemplates": "PodTemplate", "services": "Service", "configmaps": "ConfigMap",
	"secrets": "Secret", "serviceaccounts": "ServiceAccount", "namespaces": "Namespace",
	"nodes": "Node", "persistentvolumes": "PersistentVolume",
	"persistentvolumeclaims": "PersistentVolumeClaim",
	"customresourcedefinitions": "CustomResourceDefinition",
	"roles": "Role", "clusterroles": "ClusterRole", "rolebindings": "RoleBinding",
	"clusterrolebindings": "ClusterRoleBinding", "ingresses": "Ingress",
	"networkpolicies": "NetworkPolicy", "events": "Event",
	"horizontalpodautoscalers": "HorizontalPodAutoscaler",
	"validatingwebhookconfigurations": "ValidatingWebhookConfiguration",
	"mutatingwebhookconfigurations": "MutatingWebhookConfiguration",
	"approvalrequests": "ApprovalRequest",
}

resource_by_kind := {k: r | some r, k in kind_by_resource}

resource_given := lower(util.first([
	object.get(input, ["resource", "resource"], ""),
	object.get(target, "resource", ""),
	object.get(args, "resource_type", ""),
]))

# For subresource requests the AdmissionReview kind is the subresource's
# (PodExecOptions, Scale, …); the kind of the parent comes from the resource.
kind := util.first([
	object.get(input, ["resource", "kind"], ""),
	object.get(obj_or_empty, "kind", ""),
	object.get(old_or_empty, "kind", ""),
	object.get(target, "kind", ""),
	object.get(args, "kind", ""),
	object.get(tool_spec, "kind", ""),
	object.get(kind_by_resource, resource_given, ""),
]) if subresource == ""

kind := util.first([
	object.get(kind_by_resource, resource_given, ""),
	object.get(target, "kind", ""),
	object.get(args, "kind", ""),
	object.get(tool_spec, "kind", ""),
	object.get(parent_kind_by_options, object.get(input, ["resource", "kind"], ""), ""),
	object.get(parent_kind_by_options, object.get(obj_or_empty, "kind", ""), ""),
	object.get(input, ["resource", "kind"], ""),
	object.get(obj_or_empty, "kind", ""),
]) if subresource != ""

# Subresource option kinds whose parent is always a Pod.
parent_kind_by_options := {
	"PodExecOptions": "Pod", "PodAttachOptions": "Pod",
	"PodPortForwardOptions": "Pod", "PodProxyOptions": "Pod",
	"EphemeralContainers": "Pod", "Binding": "Pod", "Eviction": "Pod",
}

resource := util.first([resource_given, object.get(resource_by_kind, kind, "")])

# Where an UPDATE's object differs from its old object: JSON paths (arrays of
# keys and indexes), each stopping at the first difference, when the gateway
# computed them (src/input/changes.ts); undefined otherwise, and then rules
# compare the objects themselves.
changed := c if {
	c := input.changed
	is_array(c)
}

obj_or_empty := o if {
	o := obj
	is_object(o)
} else := {}

old_or_empty := o if {
	o := old
	is_object(o)
} else := {}

api_group(api_version) := g if {
	parts := split(api_version, "/")
	count(parts) == 2
	g := parts[0]
} else := ""

group := util.first([
	object.get(input, ["resource", "group"], ""),
	object.get(target, "group", ""),
	api_group(object.get(obj_or_empty, "apiVersion", "")),
	api_group(object.get(old_or_empty, "apiVersion", "")),
	api_group(object.get(args, "apiVersion", "")),
])

# --- names ----------------------------------------------------------------------

name := util.first([
	object.get(input, ["resource", "name"], ""),
	object.get(obj_or_empty, ["metadata", "name"], ""),
	object.get(old_or_empty, ["metadata", "name"], ""),
	object.get(target, "name", ""),
	object.get(args, "name", ""),
])

# The namespace the request lands in. A Namespace object is its own namespace.
namespace := name if kind == "Namespace"

namespace := util.first([
	object.get(input, ["resource", "namespace"], ""),
	object.get(input, ["namespace", "name"], ""),
	object.get(obj_or_empty, ["metadata", "namespace"], ""),
	object.get(old_or_empty, ["metadata", "namespace"], ""),
	object.get(target, "namespace", ""),
	object.get(args, "namespace", ""),
]) if kind != "Namespace"

# Label sets that describe the namespace: the Namespace object's own labels
# (new and old) when the request is about a Namespace, and the namespace
# metadata the gateway attaches when it watches a cluster.
namespace_label_sets contains l if {
	kind == "Namespace"
	some o in [obj_or_empty, old_or_empty]
	l := o.metadata.labels
	is_object(l)
}

namespace_label_sets contains l if {
	l := input.namespace.labels
	is_object(l)
}

# The labels used for settings read from a label (Pod Security level): the
# new Namespace object's, else the gateway's.
namespace_labels := l if {
	kind == "Namespace"
	l := obj_or_empty.metadata.labels
	is_object(l)
} else := l if {
	l := input.namespace.labels
	is_object(l)
} else := {}

cluster := util.first([
	object.get(context, "cluster", ""),
	object.get(target, "cluster", ""),
	object.get(args, "cluster", ""),
	object.get(args, "context", ""),
])

# display name of the object for messages: Kind "name"
subject := concat(" ", [kind, util.q(display_name)]) if kind != ""

subject := util.q(display_name) if kind == ""

display_name := util.first([
	name,
	object.get(obj_or_empty, ["metadata", "generateName"], ""),
	"(unnamed)",
])

# --- actor ----------------------------------------------------------------------

actor := a if {
	a := input.actor
	is_object(a)
} else := {}

username := util.first([object.get(actor, "username", "")])

# agent is true for requests policy must judge: the gateway says so, the
# actor matches data.belay.config.agents, or (tool calls) every call is an
# agent's by configuration - an LLM chose it.
agent if actor.agent == true

agent if identity.is_agent(actor)

agent if {
	is_toolcall
	cfg.toolcall.treatAllCallsAsAgent == true
}

# --- agent context ----------------------------------------------------------------

annotation_context := {k: v |
	some key, v in object.get(obj_or_empty, ["metadata", "annotations"], {})
	startswith(key, "belay.dev/")
	k := context_key_by_annotation[key]
}

context_key_by_annotation := {
	"belay.dev/workflow": "workflow",
	"belay.dev/confidence": "confidence",
	"belay.dev/rationale": "rationale",
	"belay.dev/remediation-target": "remediationTarget",
}

context := c if {
	c := input.context
	is_object(c)
} else := annotation_context

workflow := util.first([object.get(context, "workflow", ""), extra_workflow])

extra_workflow := w if {
	w := actor.extra["belay.dev/workflow"][0]
	is_string(w)
} else := ""
