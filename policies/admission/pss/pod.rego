# The pod under review as the Pod Security checks see it: its spec and
# securityContext, every container (containers, initContainers,
# ephemeralContainers) with its JSON pointer, and the message builders.
package belay.admission.pss

import rego.v1

import data.belay.lib.podspec as ps
import data.belay.lib.request as req
import data.belay.lib.util

spec := ps.spec

windows if spec.os.name == "windows"

pod_sc := s if {
	s := spec.securityContext
	is_object(s)
} else := {}

pod_has_sc if is_object(spec.securityContext)

container_fields := ["containers", "initContainers", "ephemeralContainers"]

# An array, not a set: a set hashes every element it holds, here each whole
# container, and every rule below iterates it (opa_value_hash was a quarter
# of the evaluation). Paths make each entry distinct anyway.
containers := [c |
	some field in container_fields
	list := spec[field]
	is_array(list)
	some i, ctr in list
	is_object(ctr)
	c := {
		"name": util.first([object.get(ctr, "name", ""), concat("", [field, "[", format_int(i, 10), "]"])]),
		"path": concat("/", [ps.base, field, format_int(i, 10)]),
		"has_sc": is_object(object.get(ctr, "securityContext", null)),
		"sc": sc_of(ctr),
		"ctr": ctr,
	}
]

sc_of(ctr) := s if {
	s := ctr.securityContext
	is_object(s)
} else := {}

setting(sc, key) := object.get(sc, key, null)

# profile_type(p) is the `type` of an AppArmor/seccomp profile ("" when
# missing or malformed, which no allowed list contains).
profile_type(p) := t if {
	is_object(p)
	t := p.type
	is_string(t)
} else := ""

# --- messages ----------------------------------------------------------------------

violation(rule, check, check_level, action, severity, detail, fixes) := {
	"rule": rule,
	"message": concat("", [req.subject, ": ", detail, " (Pod Security ", util.q(check_level), " check ", check, ")"]),
	"severity": severity,
	"action": action,
	"fixes": fixes,
}

ctrs(names) := concat(" ", [util.plural(count(names), "container", "containers"), util.qlist(names)])

setters(pod, names) := concat(" and ", array.concat(["the pod" | pod], [ctrs(names) | count(names) > 0]))
