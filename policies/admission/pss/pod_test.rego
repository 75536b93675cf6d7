# Pod Security: every container list, Windows pods, and every pod-bearing kind.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_ephemeral_and_init_containers_are_checked if {
	"pss.baseline.privileged" in test.pss_rules(test.restricted_with({"initContainers": [test.container_with({"name": "i", "securityContext": {"privileged": true}})]}), b)
	"pss.baseline.privileged" in test.pss_rules(test.restricted_with({"ephemeralContainers": [test.container_with({"name": "e", "securityContext": {"privileged": true}})]}), b)
}

test_windows_pods_are_exempt_from_linux_only_checks if {
	spec := {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.reasons == []
	d.fixes == []
}

test_linux_os_is_not_exempt if {
	spec := {"os": {"name": "linux"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "i"}]}
	"pss.restricted.allow_privilege_escalation" in test.pss_rules(spec, r)
}

# --- every pod-bearing kind ------------------------------------------------------

workload(kind, api, wrap) := {"apiVersion": api, "kind": kind, "metadata": {"name": "w"}, "spec": wrap}

bare := {"spec": {"containers": [{"name": "c", "image": "i"}]}}

kinds := [
	["Deployment", "apps/v1", {"template": bare}, "/spec/template/spec"],
	["ReplicaSet", "apps/v1", {"template": bare}, "/spec/template/spec"],
	["StatefulSet", "apps/v1", {"template": bare}, "/spec/template/spec"],
	["DaemonSet", "apps/v1", {"template": bare}, "/spec/template/spec"],
	["Job", "batch/v1", {"template": bare}, "/spec/template/spec"],
	["ReplicationController", "v1", {"template": bare}, "/spec/template/spec"],
	["CronJob", "batch/v1", {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": bare}}}, "/spec/jobTemplate/spec/template/spec"],
]

test_fix_paths_are_relative_to_each_kind if {
	every k in kinds {
		obj := workload(k[0], k[1], k[2])
		d := test.admit(test.admission("CREATE", obj, "team-a"))
		d.decision == "allow"
		{f.path | some f in d.fixes} == {concat("", [k[3], "/securityContext"]), concat("", [k[3], "/containers/0/securityContext"])}
		patched := json.patch(obj, d.fixes)
		d2 := test.admit(test.admission("CREATE", patched, "team-a"))
		d2.reasons == []
	}
}

test_pod_template_kind if {
	obj := {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": bare}
	d := test.admit(test.admission("CREATE", obj, "team-a"))
	"/template/spec/securityContext" in {f.path | some f in d.fixes}
}

test_denials_in_workload_templates if {
	obj := workload("CronJob", "batch/v1", {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true, "containers": [{"name": "c", "image": "i"}]}}}}})
	d := test.admit(test.admission("CREATE", obj, "team-a"))
	d.decision == "deny"
	startswith(d.reasons[0].message, "CronJob \"w\":")
}
