package belay.admission.pss_test

import rego.v1

import data.belay.test

r := "restricted"

b := "baseline"

# patched_clean(spec) applies the fixes to the pod and checks the result is
# allowed at restricted with no reasons and no further fixes.
patched_clean(spec) if {
	d := test.pss(spec, r)
	d.decision == "allow"
	count(d.fixes) > 0
	patched := json.patch(test.pod(spec), d.fixes)
	d2 := test.pss(patched.spec, r)
	d2.decision == "allow"
	d2.fixes == []
	d2.reasons == []
}

# --- levels -------------------------------------------------------------------

test_compliant_pod_is_admitted_unchanged if {
	d := test.pss(test.restricted_spec, r)
	d.decision == "allow"
	d.fixes == []
	d.reasons == []
	d.warnings == []
}

test_default_level_is_restricted if {
	inp := test.admission("CREATE", test.pod({"containers": [{"name": "c", "image": "i"}]}), "team-a")
	d := test.admit(inp)
	"pss.restricted.run_as_non_root" in test.rules(d)
}

test_label_sets_baseline if {
	test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, b) == set()
}

test_label_value_is_case_insensitive if {
	test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, " Baseline ") == set()
}

test_privileged_level_checks_nothing if {
	spec := {"hostNetwork": true, "containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}
	test.pss(spec, "privileged").decision == "allow"
}

test_invalid_label_means_restricted if {
	"pss.restricted.run_as_non_root" in test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, "lenient")
}

test_data_namespace_level_beats_label if {
	spec := {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}
	d := test.pss(spec, r) with data.belay.config.podSecurity.namespaces as {"team-a": "privileged"}
	d.decision == "allow"
}

test_label_ignored_when_configured if {
	rules := test.pss_rules({"containers": [{"name": "c", "image": "i"}]}, b) with data.belay.config.podSecurity.honorNamespaceLabel as false
	"pss.restricted.run_as_non_root" in rules
}

test_default_level_from_data if {
	inp := test.admission("CREATE", test.pod({"containers": [{"name": "c", "image": "i"}]}), "team-a")
	d := test.admit(inp) with data.belay.config.podSecurity.default as "baseline"
	d.reasons == []
}

# --- when the checks run ---------------------------------------------------------

bad_spec := {"hostPID": true, "containers": [{"name": "c", "image": "i"}]}

test_humans_are_not_judged if {
	inp := test.as_actor(test.admission("CREATE", test.pod(bad_spec), "team-a"), test.human)
	test.admit(inp).decision == "allow"
}

test_delete_is_not_pod_security if {
	not "pss.baseline.host_namespaces" in test.rules(test.admit(test.delete(test.pod(bad_spec), "team-a")))
}

test_update_without_template_change_is_not_rejudged if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1, "template": {"spec": bad_spec}}}
	new := object.union(old, {"spec": {"replicas": 3}})
	test.admit(test.update(old, new, "team-a")).reasons == []
}

test_update_with_template_change_is_judged if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": bad_spec}}}
	new := object.union(old, {"spec": {"template": {"metadata": {"labels": {"v": "2"}}}}})
	"pss.baseline.host_namespaces" in test.rules(test.admit(test.update(old, new, "team-a")))
}

test_pod_image_update_is_not_rejudged if {
	old := test.pod(bad_spec)
	new := test.pod({"hostPID": true, "containers": [{"name": "c", "image": "i:v2"}]})
	test.admit(test.update(old, new, "team-a")).reasons == []
}

test_status_subresource_is_not_judged if {
	inp := object.union(test.admission("UPDATE", test.pod(bad_spec), "team-a"), {"action": {"subresource": "status"}})
	test.admit(inp).reasons == []
}

test_ephemeral_containers_subresource_is_judged if {
	spec := object.union(test.restricted_spec, {"ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": {"privileged": true}}]})
	old := test.pod(test.restricted_spec)
	inp := object.union(test.update(old, test.pod(spec), "team-a"), {"action": {"subresource": "ephemeralcontainers"}, "resource": {"resource": "pods"}})
	d := test.admit(inp)
	d.decision == "deny"
	"pss.baseline.privileged" in test.rules(d)
}

# --- baseline checks -----------------------------------------------------------------

test_host_namespaces if {
	"pss.baseline.host_namespaces" in test.pss_rules(test.restricted_with({"hostIPC": true}), b)
	"pss.baseline.host_namespaces" in test.pss_rules(test.restricted_with({"hostNetwork": true}), r)
	test.pss_rules(test.restricted_with({"hostNetwork": false, "hostPID": false}), r) == set()
}

test_privileged if {
	d := test.pss(test.restricted_with({"containers": [test.container_with({"securityContext": {"privileged": true}})]}), b)
	d.decision == "deny"
	"pss.baseline.privileged" in test.rules(d)
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"privileged": false}})]}), r) == set()
}

test_capabilities_baseline if {
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["NET_RAW"]), b)
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["SYS_ADMIN"]), r)
	"pss.baseline.capabilities_baseline" in test.pss_rules(capabilities_baseline_caps(["CAP_CHOWN"]), b)
	test.pss_rules(capabilities_baseline_caps(["CHOWN", "KILL", "NET_BIND_SERVICE", "SYS_CHROOT"]), b) == set()
}

test_host_path_volumes if {
	spec := test.restricted_with({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]})
	"pss.baseline.host_path_volumes" in test.pss_rules(spec, b)
	test.pss_rules(test.restricted_with({"volumes": [{"name": "e", "emptyDir": {}}]}), r) == set()
}

test_host_ports if {
	"pss.baseline.host_ports" in test.pss_rules(host_ports_ports({"containerPort": 80, "hostPort": 8080}), b)
	test.pss_rules(host_ports_ports({"containerPort": 80, "hostPort": 0}), r) == set()
	test.pss_rules(host_ports_ports({"containerPort": 80}), r) == set()
}

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

test_se_linux_options if {
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"type": "spc_t"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"user": "system_u"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(se_linux_options_sel({"role": "system_r"}), b)
	"pss.baseline.se_linux_options" in test.pss_rules(test.restricted_with({"securityContext": {"seLinuxOptions": {"type": "somevalue"}}}), b)
	test.pss_rules(se_linux_options_sel({"type": "container_init_t", "level": "s0:c1"}), r) == set()
	test.pss_rules(se_linux_options_sel({}), r) == set()
}

test_proc_mount_baseline if {
	"pss.baseline.proc_mount" in test.pss_rules(proc_mount_baseline_pm(true), b)
	test.pss_rules(proc_mount_baseline_pm(false), b) == set()
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"procMount": "Default"}})]}), r) == set()
}

test_proc_mount_restricted_ignores_user_namespaces if {
	spec := test.restricted_with({"hostUsers": false, "containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"}})]})
	rules := test.pss_rules(spec, r)
	rules == {"pss.restricted.proc_mount_restricted"}
}

test_seccomp_baseline if {
	"pss.baseline.seccomp_profile_baseline" in test.pss_rules(test.restricted_with({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}), b)
	"pss.baseline.seccomp_profile_baseline" in test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})]}), b)
	test.pss_rules(test.restricted_with({"containers": [test.container_with({"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}})]}), r) == set()
}

test_sysctls if {
	"pss.baseline.sysctls" in test.pss_rules(sysctls_sys("kernel.msgmax"), b)
	"pss.baseline.sysctls" in test.pss_rules(sysctls_sys("net.core.somaxconn"), r)
	every n in data.belay.config.podSecurity.safeSysctls {
		test.pss_rules(sysctls_sys(n), r) == set()
	}
}

test_windows_host_process if {
	"pss.baseline.windows_host_process" in test.pss_rules(windows_host_process_win({"windowsOptions": {"hostProcess": true}}), b)
	"pss.baseline.windows_host_process" in test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "windowsOptions": {"hostProcess": true}}}), b)
	test.pss_rules(windows_host_process_win({"windowsOptions": {"hostProcess": false}}), b) == set()
}

test_host_probes_and_lifecycle if {
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"readinessProbe": {"tcpSocket": {"host": "node", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"startupProbe": {"httpGet": {"host": "x", "port": 80}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"lifecycle": {"preStop": {"httpGet": {"host": "x", "port": 80}}}}), b)
	"pss.baseline.host_probes_and_host_lifecycle" in test.pss_rules(host_probes_and_lifecycle_c({"lifecycle": {"postStart": {"tcpSocket": {"host": "x", "port": 80}}}}), b)
	test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"host": "", "port": 80}}}), r) == set()
	test.pss_rules(host_probes_and_lifecycle_c({"livenessProbe": {"httpGet": {"port": 80}}, "readinessProbe": {"exec": {"command": ["true"]}}}), r) == set()
}

test_ephemeral_and_init_containers_are_checked if {
	"pss.baseline.privileged" in test.pss_rules(test.restricted_with({"initContainers": [test.container_with({"name": "i", "securityContext": {"privileged": true}})]}), b)
	"pss.baseline.privileged" in test.pss_rules(test.restricted_with({"ephemeralContainers": [test.container_with({"name": "e", "securityContext": {"privileged": true}})]}), b)
}

test_denial_names_the_check if {
	d := test.pss(test.restricted_with({"hostPID": true}), b)
	contains(d.reasons[0].message, "check hostNamespaces")
	contains(d.reasons[0].message, "Pod \"p\"")
}

# --- restricted checks -----------------------------------------------------------------

test_restricted_volumes if {
	"pss.restricted.restricted_volumes" in test.pss_rules(restricted_volumes_vol({"name": "n", "nfs": {"server": "s", "path": "/"}}), r)
	"pss.restricted.restricted_volumes" in test.pss_rules(restricted_volumes_vol({"name": "g", "gitRepo": {"repository": "x"}}), r)
	test.pss_rules(restricted_volumes_vol({"name": "n", "nfs": {"server": "s", "path": "/"}}), b) == set()
	test.pss_rules(restricted_volumes_vol({"name": "implicit-empty-dir"}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "c", "csi": {"driver": "d"}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "e", "ephemeral": {"volumeClaimTemplate": {}}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "p", "projected": {"sources": []}}), r) == set()
}

test_allow_privilege_escalation_unset_is_fixed if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/allowPrivilegeEscalation", "value": false}]
	d.warnings[0] == concat("", ["belay fixed: ", d.reasons[0].message, " (pss.restricted.allow_privilege_escalation)"])
	patched_clean(spec)
}

test_allow_privilege_escalation_true_is_denied if {
	spec := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": true, "capabilities": {"drop": ["ALL"]}}})]})
	d := test.pss(spec, r)
	d.decision == "deny"
	d.reasons[0].rule == "pss.restricted.allow_privilege_escalation"
	d.fixes == []
}

test_missing_security_context_is_added_whole if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i"}]})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
	test.rules(d) == {"pss.restricted.allow_privilege_escalation", "pss.restricted.capabilities_restricted"}
	patched_clean(spec)
}

test_null_security_context_is_replaced if {
	spec := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": null}]})
	d := test.pss(spec, r)
	d.fixes[0].path == "/spec/containers/0/securityContext"
	patched_clean(spec)
}

test_bare_pod_gets_one_fix_per_security_context if {
	spec := {"containers": [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}], "initContainers": [{"name": "init", "image": "i"}]}
	d := test.pss(spec, r)
	d.decision == "allow"
	[f.path | some f in d.fixes] == [
		"/spec/containers/0/securityContext",
		"/spec/containers/1/securityContext",
		"/spec/initContainers/0/securityContext",
		"/spec/securityContext",
	]
	d.fixes[3].value == {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}
	patched_clean(spec)
}

test_capabilities_drop_variants if {
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities", "value": {"drop": ["ALL"]}}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop", "value": ["ALL"]}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"]}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop", "value": ["ALL"]}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": []}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop/-", "value": "ALL"}]
	test.pss(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}}), r).fixes == [{"op": "add", "path": "/spec/containers/0/securityContext/capabilities/drop/-", "value": "ALL"}]
	patched_clean(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["NET_RAW"]}}))
	patched_clean(capabilities_drop_variants_caps({"allowPrivilegeEscalation": false, "capabilities": {}}))
}

test_capabilities_restricted_add if {
	test.pss_rules(capabilities_restricted_add_caps(["NET_BIND_SERVICE"]), r) == set()
	d := test.pss(capabilities_restricted_add_caps(["CHOWN"]), r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.capabilities_restricted"}
}

test_capabilities_drop_all_is_case_sensitive if {
	spec := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["all"]}}})]})
	"pss.restricted.capabilities_restricted" in test.pss_rules(spec, r)
}

test_run_as_non_root_fix_when_nothing_asks_for_root if {
	spec := test.restricted_with({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
	patched_clean(spec)
}

test_run_as_non_root_with_non_root_uid_is_still_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
}

test_run_as_non_root_on_every_container_passes if {
	c := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}})
	spec := {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [c]}
	test.pss_rules(spec, r) == set()
}

test_run_as_non_root_false_is_denied if {
	pod_false := test.restricted_with({"securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(pod_false, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_non_root"}
	ctr_false := test.restricted_with({"initContainers": [test.container_with({"name": "i", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false}})]})
	test.pss(ctr_false, r).decision == "deny"
}

test_run_as_root_user_is_denied_not_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_user", "pss.restricted.run_as_non_root"}
	d.fixes == []
}

test_run_as_user if {
	ctr_root := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 0}})]})
	"pss.restricted.run_as_user" in test.pss_rules(ctr_root, r)
	test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}), r) == set()
	test.pss_rules(ctr_root, b) == set()
}

test_user_namespace_relaxation_is_opt_in if {
	spec := test.restricted_with({"hostUsers": false, "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	test.pss(spec, r).decision == "deny"
	d := test.pss(spec, r) with data.belay.config.podSecurity.relaxRunAsForUserNamespaces as true
	d.decision == "allow"
	d.reasons == []
}

test_seccomp_restricted_fix if {
	spec := test.restricted_with({"securityContext": {"runAsNonRoot": true}})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}]
	test.rules(d) == {"pss.restricted.seccomp_profile_restricted"}
	patched_clean(spec)
}

test_seccomp_on_every_container_passes if {
	spec := {"securityContext": {"runAsNonRoot": true}, "containers": [seccomp_on_every_container_passes_c("RuntimeDefault")], "initContainers": [seccomp_on_every_container_passes_c("Localhost")]}
	test.pss_rules(spec, r) == set()
}

test_seccomp_one_container_missing_is_fixed_at_pod_level if {
	c := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Localhost", "localhostProfile": "x"}}})
	spec := {"securityContext": {"runAsNonRoot": true}, "containers": [c, test.container_with({"name": "c2"})]}
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}]
	patched_clean(spec)
}

test_seccomp_unconfined_is_denied_at_restricted if {
	spec := test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "Unconfined"}}})
	d := test.pss(spec, r)
	d.decision == "deny"
	test.rules(d) == {"pss.baseline.seccomp_profile_baseline", "pss.restricted.seccomp_profile_restricted"}
}

test_windows_pods_are_exempt_from_linux_only_checks if {
	spec := {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.reasons == []
	d.fixes == []
}

test_windows_pods_still_need_run_as_non_root if {
	spec := {"os": {"name": "windows"}, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}}]
}

test_linux_os_is_not_exempt if {
	spec := {"os": {"name": "linux"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "image": "i"}]}
	"pss.restricted.allow_privilege_escalation" in test.pss_rules(spec, r)
}

test_deny_wins_over_fixes if {
	spec := {"hostNetwork": true, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.decision == "deny"
	d.fixes == []
	d.reasons[0].rule == "pss.baseline.host_namespaces"
	"pss.restricted.run_as_non_root" in test.rules(d)
}

# --- every pod-bearing kind ----------------------------------------------------------

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

# --- namespace labels ---------------------------------------------------------------------

ns(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}}

test_agent_relabelling_pod_security_defers if {
	old := ns({"pod-security.kubernetes.io/enforce": "restricted"})
	new := ns({"pod-security.kubernetes.io/enforce": "privileged"})
	d := test.admit(test.update(old, new, ""))
	d.decision == "defer"
	"pss.namespace_labels" in test.rules(d)
}

test_agent_other_label_change_is_fine if {
	old := ns({"pod-security.kubernetes.io/enforce": "restricted", "team": "a"})
	new := ns({"pod-security.kubernetes.io/enforce": "restricted", "team": "b"})
	test.admit(test.update(old, new, "")).decision == "allow"
}

test_agent_creating_weaker_namespace_defers if {
	"pss.namespace_labels" in test.rules(test.admit(test.admission("CREATE", ns({"pod-security.kubernetes.io/enforce": "baseline"}), "")))
	test.admit(test.admission("CREATE", ns({"pod-security.kubernetes.io/enforce": "restricted"}), "")).decision == "allow"
	test.admit(test.admission("CREATE", ns({}), "")).decision == "allow"
}

# --- builders used by the tests above ---

capabilities_baseline_caps(add) := test.restricted_with({"containers": [test.container_with({"securityContext": {"capabilities": {"drop": ["ALL"], "add": add}}})]})

host_ports_ports(p) := test.restricted_with({"containers": [test.container_with({"ports": [p]})]})

app_armor_annotation_p(v) := object.union(test.pod(test.restricted_spec), {"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/c1": v}}})

app_armor_annotation_i(v) := test.labelled(test.admission("CREATE", app_armor_annotation_p(v), "team-a"), {"pod-security.kubernetes.io/enforce": "baseline"})

se_linux_options_sel(o) := test.restricted_with({"containers": [test.container_with({"securityContext": {"seLinuxOptions": o}})]})

proc_mount_baseline_pm(host_users) := test.restricted_with({"hostUsers": host_users, "containers": [test.container_with({"securityContext": {"procMount": "Unmasked"}})]})

sysctls_sys(n) := test.restricted_with({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": [{"name": n, "value": "1"}]}})

windows_host_process_win(sc) := test.restricted_with({"os": {"name": "windows"}, "containers": [test.container_with({"securityContext": sc})]})

host_probes_and_lifecycle_c(extra) := test.restricted_with({"containers": [test.container_with(extra)]})

restricted_volumes_vol(v) := test.restricted_with({"volumes": [v]})

capabilities_drop_variants_caps(sc) := test.restricted_with({"containers": [{"name": "c1", "image": "i", "securityContext": sc}]})

capabilities_restricted_add_caps(add) := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": add}}})]})

seccomp_on_every_container_passes_c(t) := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": t}}})
