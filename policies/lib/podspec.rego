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
