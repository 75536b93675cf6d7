# Pod Security: appArmorProfile, by field and by annotation.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_app_armor_annotation if {
	"pss.baseline.app_armor_profile" in test.rules(test.admit(app_armor_annotation_i("unconfined")))
	test.admit(app_armor_annotation_i("runtime/default")).reasons == []
	test.admit(app_armor_annotation_i("localhost/custom")).reasons == []
	test.admit(app_armor_annotation_i("")).reasons == []
}

test_app_armor_fields if {
	"pss.baseline.app_armor_profile" in test.pss_rules(test.restricted_with({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}), b)
	"pss.baseline.app_armor_profile" in test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}})]}), b)
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "x"}}})]}), r) == set()
	test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "appArmorProfile": {"type": "RuntimeDefault"}}}), r) == set()
}

test_app_armor_in_template_metadata if {
	dep := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {
		"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/c1": "unconfined"}},
		"spec": test.restricted_spec,
	}}}
	"pss.baseline.app_armor_profile" in test.rules(test.admit(test.admission("CREATE", dep, "team-a")))
}

app_armor_annotation_p(v) := object.union(test.pod(test.restricted_spec), {"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/c1": v}}})

app_armor_annotation_i(v) := test.labelled(test.admission("CREATE", app_armor_annotation_p(v), "team-a"), {"pod-security.kubernetes.io/enforce": "baseline"})
