# Pod spec extraction for every pod-bearing kind. `base` is the JSON pointer of
# the pod spec inside the admitted object, so fixes are relative to it.
package belay.lib.podspec

import rego.v1

import data.belay.lib.request as req

# Where the pod template sits in each kind (empty for a Pod itself).
template_prefix := {
	"Pod": [],
	"Deployment": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"Job": ["spec", "template"],
	"ReplicationController": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
	"PodTemplate": ["template"],
}

pod_bearing if template_prefix[req.kind]

prefix := template_prefix[req.kind]

spec_path := array.concat(prefix, ["spec"])

meta_path := array.concat(prefix, ["metadata"])

spec := s if {
	s := object.get(req.obj, spec_path, null)
	is_object(s)
}

found if is_object(spec)

meta := m if {
	m := object.get(req.obj, meta_path, null)
	is_object(m)
} else := {}

annotations := a if {
	a := meta.annotations
	is_object(a)
} else := {}

base := concat("", ["/", concat("/", spec_path)])

old_spec := s if {
	s := object.get(req.old, spec_path, null)
	is_object(s)
}

old_template := t if {
	count(prefix) > 0
	t := object.get(req.old, prefix, null)
}

new_template := t if {
	count(prefix) > 0
	t := object.get(req.obj, prefix, null)
}

# template_changed: an UPDATE changed the pod template (controllers). The
# gateway's list of changed paths answers it without comparing two large
# objects in the policy; without the list, the templates are compared.
template_changed if {
	count(prefix) > 0
	some p in req.changed
	overlaps(p, prefix)
}

template_changed if {
	not req.changed
	old_template != new_template
}

# overlaps(p, q): one path is a prefix of the other (a change at or under q,
# or a change of an ancestor that replaced q).
overlaps(p, q) if {
	n := min([count(p), count(q)])
	array.slice(p, 0, n) == array.slice(q, 0, n)
}
