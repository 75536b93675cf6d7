# Baseline appArmorProfile: AppArmor may not be disabled or overridden, by
# field (pod or container) or by the beta annotation.
package belay.admission.pss

import rego.v1

import data.belay.lib.podspec as ps
import data.belay.lib.util

apparmor_annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

apparmor_allowed_types := {"RuntimeDefault", "Localhost"}

allowed_apparmor_annotation(v) if v == ""

allowed_apparmor_annotation(v) if v == "runtime/default"

allowed_apparmor_annotation(v) if startswith(v, "localhost/")

bad_apparmor_annotations := {concat("=", [k, util.q(v)]) |
	some k, v in ps.annotations
	startswith(k, apparmor_annotation_prefix)
	not allowed_apparmor_annotation(v)
}

bad_apparmor_type(sc) if {
	p := setting(sc, "appArmorProfile")
	p != null
	not profile_type(p) in apparmor_allowed_types
}

default bad_apparmor_pod := false

bad_apparmor_pod if bad_apparmor_type(pod_sc)

bad_apparmor_ctrs := {c.name | some c in containers; bad_apparmor_type(c.sc)}

violations contains violation(
	"pss.baseline.app_armor_profile", "appArmorProfile", "baseline", "deny", "high",
	concat("", [
		concat(" and ", array.concat(
			[setters(bad_apparmor_pod, bad_apparmor_ctrs) | any_bad_apparmor_field],
			[concat("", ["annotations ", concat(", ", sort(bad_apparmor_annotations))]) | count(bad_apparmor_annotations) > 0],
		)),
		" must not disable or override AppArmor; use the RuntimeDefault or a Localhost profile",
	]),
	[],
) if {
	applies
	baseline_on
	any_bad_apparmor
}

any_bad_apparmor_field if bad_apparmor_pod

any_bad_apparmor_field if count(bad_apparmor_ctrs) > 0

any_bad_apparmor if any_bad_apparmor_field

any_bad_apparmor if count(bad_apparmor_annotations) > 0
