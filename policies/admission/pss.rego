# Pod Security Standards (v1.37), baseline and restricted, for every
# pod-bearing kind. Rule ids are pss.<level>.<check>, where <check> is the
# upstream Pod Security admission check id in snake_case (so
# pss.baseline.capabilities_baseline is check `capabilities_baseline`); each
# message names the upstream check id too.
#
# What can be fixed without widening privileges is fixed by JSON patch (only
# ever adding restrictions, and only fields that are unset):
#   allowPrivilegeEscalation=false, capabilities.drop=[ALL],
#   seccompProfile.type=RuntimeDefault (pod level), runAsNonRoot=true (pod
#   level, when nothing asks for root).
# Everything else is denied.
#
# The level comes from data.belay.config.podSecurity.namespaces[ns], else the
# namespace label pod-security.kubernetes.io/enforce (when labels are known),
# else podSecurity.default ("restricted"). An invalid label value means
# restricted, as in Kubernetes.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.podspec as ps
import data.belay.lib.request as req
import data.belay.lib.util

levels := {"privileged", "baseline", "restricted"}

level := l if {
	l := cfg.podSecurity.namespaces[req.namespace]
	l in levels
} else := l if {
	cfg.podSecurity.honorNamespaceLabel == true
	raw := req.namespace_labels[cfg.podSecurity.labelKey]
	is_string(raw)
	l := label_level(raw)
} else := l if {
	l := cfg.podSecurity.default
	l in levels
} else := "restricted"

label_level(raw) := l if {
	l := lower(trim_space(raw))
	l in levels
} else := "restricted"

baseline_on if level in {"baseline", "restricted"}

restricted_on if level == "restricted"

# --- when the checks run -------------------------------------------------------

applies if {
	req.agent
	req.operation in {"CREATE", "UPDATE"}
	ps.found
	subresource_ok
	significant
}

subresource_ok if req.subresource == ""

subresource_ok if {
	req.subresource == "ephemeralcontainers"
	req.kind == "Pod"
}

# An UPDATE that leaves the pod template alone (scaling by writing replicas,
# relabelling, an image bump of a running Pod) is not re-judged: fixing the
# template would start a rollout nobody asked for. Kubernetes' own Pod
# Security admission skips the same updates.
significant if req.operation == "CREATE"

significant if {
	req.operation == "UPDATE"
	not ps.old_spec
}

significant if {
	req.operation == "UPDATE"
	req.subresource == "ephemeralcontainers"
}

significant if {
	req.operation == "UPDATE"
	req.kind != "Pod"
	ps.old_template != ps.new_template
}

significant if {
	req.operation == "UPDATE"
	req.kind == "Pod"
	strip(ps.old_spec) != strip(ps.spec)
}

strip(s) := object.union(
	object.remove(s, ["activeDeadlineSeconds", "tolerations", "containers", "initContainers"]),
	{
		"containers": no_images(object.get(s, "containers", [])),
		"initContainers": no_images(object.get(s, "initContainers", [])),
	},
)

no_images(cs) := [object.remove(c, ["image"]) | some c in cs]

# --- the pod ----------------------------------------------------------------------

spec := ps.spec

windows if spec.os.name == "windows"

pod_sc := s if {
	s := spec.securityContext
	is_object(s)
} else := {}

pod_has_sc if is_object(spec.securityContext)

container_fields := ["containers", "initContainers", "ephemeralContainers"]

containers contains c if {
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
}

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

add_caps(c) := a if {
	a := c.sc.capabilities.add
	is_array(a)
} else := []

drops(c) := d if {
	d := c.sc.capabilities.drop
	is_array(d)
} else := []

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

# === baseline ===============================================================

# hostNamespaces
host_namespace_fields := [f | some f in ["hostNetwork", "hostPID", "hostIPC"]; spec[f] == true]

violations contains violation(
	"pss.baseline.host_namespaces", "hostNamespaces", "baseline", "deny", "high",
	concat("", [
		"the pod must not set ", concat(", ", [concat("", [f, "=true"]) | some f in host_namespace_fields]),
		"; sharing the node's network, PID or IPC namespace is forbidden, remove the field",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_namespace_fields) > 0
}

# privileged
privileged_ctrs := {c.name | some c in containers; c.sc.privileged == true}

violations contains violation(
	"pss.baseline.privileged", "privileged", "baseline", "deny", "critical",
	concat("", [
		ctrs(privileged_ctrs),
		" must not set securityContext.privileged=true; remove it and grant only the specific capability the workload needs",
	]),
	[],
) if {
	applies
	baseline_on
	count(privileged_ctrs) > 0
}

# capabilities_baseline
baseline_caps_bad := {[c.name, cap] |
	some c in containers
	some cap in add_caps(c)
	not cap in cfg.podSecurity.baselineCapabilities
}

violations contains violation(
	"pss.baseline.capabilities_baseline", "capabilities_baseline", "baseline", "deny", "high",
	concat("", [
		ctrs({x[0] | some x in baseline_caps_bad}),
		" must not add ", util.qlist({x[1] | some x in baseline_caps_bad}),
		" to securityContext.capabilities.add; remove them (only the container runtime's default capabilities may be added)",
	]),
	[],
) if {
	applies
	baseline_on
	count(baseline_caps_bad) > 0
}

# hostPathVolumes
host_path_volumes := {util.first([object.get(vol, "name", ""), "(unnamed)"]) |
	some vol in spec.volumes
	object.get(vol, "hostPath", null) != null
}

violations contains violation(
	"pss.baseline.host_path_volumes", "hostPathVolumes", "baseline", "deny", "high",
	concat("", [
		util.plural(count(host_path_volumes), "volume ", "volumes "), util.qlist(host_path_volumes),
		" must not use hostPath; use a persistentVolumeClaim, emptyDir, configMap or secret volume instead",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_path_volumes) > 0
}

# hostPorts
host_ports := {[c.name, hp] |
	some c in containers
	some p in c.ctr.ports
	hp := object.get(p, "hostPort", 0)
	hp != 0
	hp != null
}

violations contains violation(
	"pss.baseline.host_ports", "hostPorts", "baseline", "deny", "high",
	concat("", [
		ctrs({x[0] | some x in host_ports}), " must not set hostPort (",
		concat(", ", sort({format_int(x[1], 10) | some x in host_ports; is_number(x[1])})),
		"); expose the port through a Service instead",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_ports) > 0
}

# appArmorProfile
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

# seLinuxOptions
selinux_allowed_types := {t | some t in array.concat([""], cfg.podSecurity.seLinuxTypes)}

bad_selinux(sc) if {
	o := setting(sc, "seLinuxOptions")
	is_object(o)
	not object.get(o, "type", "") in selinux_allowed_types
}

bad_selinux(sc) if {
	o := setting(sc, "seLinuxOptions")
	is_object(o)
	object.get(o, "user", "") != ""
}

bad_selinux(sc) if {
	o := setting(sc, "seLinuxOptions")
	is_object(o)
	object.get(o, "role", "") != ""
}

default bad_selinux_pod := false

bad_selinux_pod if bad_selinux(pod_sc)

bad_selinux_ctrs := {c.name | some c in containers; bad_selinux(c.sc)}

violations contains violation(
	"pss.baseline.se_linux_options", "seLinuxOptions", "baseline", "deny", "high",
	concat("", [
		setters(bad_selinux_pod, bad_selinux_ctrs),
		" must not set a custom SELinux user, role or type (allowed types: container_t, container_init_t, container_kvm_t); remove seLinuxOptions",
	]),
	[],
) if {
	applies
	baseline_on
	any_bad_selinux
}

any_bad_selinux if bad_selinux_pod

any_bad_selinux if count(bad_selinux_ctrs) > 0

# procMount (baseline): relaxed for pods in a user namespace (hostUsers: false)
unmasked_ctrs := {c.name |
	some c in containers
	pm := setting(c.sc, "procMount")
	pm != null
	pm != "Default"
}

violations contains violation(
	"pss.baseline.proc_mount", "procMount", "baseline", "deny", "high",
	concat("", [
		ctrs(unmasked_ctrs),
		" must not set securityContext.procMount to anything but Default (unless the pod uses a user namespace, hostUsers: false); remove it",
	]),
	[],
) if {
	applies
	baseline_on
	not spec.hostUsers == false
	count(unmasked_ctrs) > 0
}

# seccompProfile_baseline
seccomp_allowed_types := {"RuntimeDefault", "Localhost"}

bad_seccomp(sc) if {
	p := setting(sc, "seccompProfile")
	p != null
	not profile_type(p) in seccomp_allowed_types
}

default bad_seccomp_pod := false

bad_seccomp_pod if bad_seccomp(pod_sc)

bad_seccomp_ctrs := {c.name | some c in containers; bad_seccomp(c.sc)}

any_bad_seccomp if bad_seccomp_pod

any_bad_seccomp if count(bad_seccomp_ctrs) > 0

violations contains violation(
	"pss.baseline.seccomp_profile_baseline", "seccompProfile_baseline", "baseline", "deny", "high",
	concat("", [
		setters(bad_seccomp_pod, bad_seccomp_ctrs),
		" must not set securityContext.seccompProfile.type to anything but RuntimeDefault or Localhost (Unconfined disables seccomp); use RuntimeDefault",
	]),
	[],
) if {
	applies
	baseline_on
	any_bad_seccomp
}

# sysctls
forbidden_sysctls := {n |
	some s in pod_sc.sysctls
	n := object.get(s, "name", "")
	not n in cfg.podSecurity.safeSysctls
}

violations contains violation(
	"pss.baseline.sysctls", "sysctls", "baseline", "deny", "high",
	concat("", [
		"the pod must not set ", util.plural(count(forbidden_sysctls), "sysctl ", "sysctls "), util.qlist(forbidden_sysctls),
		"; only the namespaced, node-isolated safe sysctls are allowed",
	]),
	[],
) if {
	applies
	baseline_on
	count(forbidden_sysctls) > 0
}

# windowsHostProcess
host_process(sc) if sc.windowsOptions.hostProcess == true

default host_process_pod := false

host_process_pod if host_process(pod_sc)

host_process_ctrs := {c.name | some c in containers; host_process(c.sc)}

violations contains violation(
	"pss.baseline.windows_host_process", "windowsHostProcess", "baseline", "deny", "critical",
	concat("", [
		setters(host_process_pod, host_process_ctrs),
		" must not set securityContext.windowsOptions.hostProcess=true; Windows HostProcess containers have full access to the node",
	]),
	[],
) if {
	applies
	baseline_on
	any_host_process
}

any_host_process if host_process_pod

any_host_process if count(host_process_ctrs) > 0

# hostProbesAndHostLifecycle
probe_handlers := [[p, a] | some p in ["livenessProbe", "readinessProbe", "startupProbe"]; some a in ["httpGet", "tcpSocket"]]

lifecycle_handlers := [["lifecycle", h, a] | some h in ["postStart", "preStop"]; some a in ["httpGet", "tcpSocket"]]

probe_hosts := {[c.name, h] |
	some c in containers
	some path in array.concat(probe_handlers, lifecycle_handlers)
	h := object.get(c.ctr, array.concat(path, ["host"]), "")
	is_string(h)
	h != ""
}

violations contains violation(
	"pss.baseline.host_probes_and_host_lifecycle", "hostProbesAndHostLifecycle", "baseline", "deny", "high",
	concat("", [
		ctrs({x[0] | some x in probe_hosts}), " must not set a host in probes or lifecycle hooks (",
		util.qlist({x[1] | some x in probe_hosts}),
		"); remove the host field so the kubelet targets the pod itself",
	]),
	[],
) if {
	applies
	baseline_on
	count(probe_hosts) > 0
}

# === restricted ===============================================================

# restrictedVolumes: an entry with no source at all is an implicit emptyDir.
bad_volumes := {[util.first([object.get(vol, "name", ""), "(unnamed)"]), k] |
	some vol in spec.volumes
	is_object(vol)
	some k, src in vol
	k != "name"
	src != null
	not k in cfg.podSecurity.restrictedVolumeTypes
}

violations contains violation(
	"pss.restricted.restricted_volumes", "restrictedVolumes", "restricted", "deny", "medium",
	concat("", [
		util.plural(count({x[0] | some x in bad_volumes}), "volume ", "volumes "), util.qlist({x[0] | some x in bad_volumes}),
		" must not use ", util.qlist({x[1] | some x in bad_volumes}),
		"; only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes are allowed, so use a persistentVolumeClaim",
	]),
	[],
) if {
	applies
	restricted_on
	count(bad_volumes) > 0
}

# allowPrivilegeEscalation (not for Windows pods)
ape_true_ctrs := {c.name |
	some c in containers
	v := setting(c.sc, "allowPrivilegeEscalation")
	v != null
	v != false
}

ape_unset := {c | some c in containers; setting(c.sc, "allowPrivilegeEscalation") == null}

violations contains violation(
	"pss.restricted.allow_privilege_escalation", "allowPrivilegeEscalation", "restricted", "deny", "medium",
	concat("", [
		ctrs(ape_true_ctrs),
		" must not set securityContext.allowPrivilegeEscalation=true; set it to false (setuid binaries must not gain privileges)",
	]),
	[],
) if {
	applies
	restricted_on
	not windows
	count(ape_true_ctrs) > 0
}

violations contains violation(
	"pss.restricted.allow_privilege_escalation", "allowPrivilegeEscalation", "restricted", "fix", "medium",
	concat("", [
		ctrs({c.name | some c in ape_unset}),
		" must set securityContext.allowPrivilegeEscalation=false; belay sets it",
	]),
	[op | some c in ape_unset; some op in container_fix(c, "allowPrivilegeEscalation")],
) if {
	applies
	restricted_on
	not windows
	count(ape_unset) > 0
}

# runAsNonRoot
relaxed_for_user_namespace if {
	cfg.podSecurity.relaxRunAsForUserNamespaces == true
	spec.hostUsers == false
}

pod_run_as_non_root := setting(pod_sc, "runAsNonRoot")

default rnr_false_pod := false

rnr_false_pod if pod_run_as_non_root == false

rnr_false_ctrs := {c.name | some c in containers; setting(c.sc, "runAsNonRoot") == false}

rnr_implicit_ctrs := {c.name |
	some c in containers
	setting(c.sc, "runAsNonRoot") == null
	pod_run_as_non_root != true
}

default root_user_pod := false

root_user_pod if setting(pod_sc, "runAsUser") == 0

root_user_ctrs := {c.name | some c in containers; setting(c.sc, "runAsUser") == 0}

asks_for_root if root_user_pod

asks_for_root if count(root_user_ctrs) > 0

rnr_explicit if rnr_false_pod

rnr_explicit if count(rnr_false_ctrs) > 0

rnr_check if {
	applies
	restricted_on
	not relaxed_for_user_namespace
}

violations contains violation(
	"pss.restricted.run_as_non_root", "runAsNonRoot", "restricted", "deny", "medium",
	concat("", [
		setters(rnr_false_pod, rnr_false_ctrs),
		" must not set securityContext.runAsNonRoot=false; set it to true and run the image as a non-zero UID",
	]),
	[],
) if {
	rnr_check
	rnr_explicit
}

violations contains violation(
	"pss.restricted.run_as_non_root", "runAsNonRoot", "restricted", "deny", "medium",
	concat("", [
		"the pod or ", ctrs(rnr_implicit_ctrs),
		" must set securityContext.runAsNonRoot=true, which belay cannot add because runAsUser=0 asks for root; run the image as a non-zero UID",
	]),
	[],
) if {
	rnr_check
	not rnr_explicit
	asks_for_root
	count(rnr_implicit_ctrs) > 0
}

violations contains violation(
	"pss.restricted.run_as_non_root", "runAsNonRoot", "restricted", "fix", "medium",
	concat("", [
		ctrs(rnr_implicit_ctrs),
		" must not run as root; belay sets securityContext.runAsNonRoot=true on the pod (if the image's user is root, also set runAsUser to a non-zero UID)",
	]),
	pod_fix("runAsNonRoot"),
) if {
	rnr_fixable
}

rnr_fixable if {
	rnr_check
	not rnr_explicit
	not asks_for_root
	count(rnr_implicit_ctrs) > 0
}

# runAsUser
violations contains violation(
	"pss.restricted.run_as_user", "runAsUser", "restricted", "deny", "medium",
	concat("", [
		setters(root_user_pod, root_user_ctrs),
		" must not set runAsUser=0; run as a non-zero UID",
	]),
	[],
) if {
	applies
	restricted_on
	not relaxed_for_user_namespace
	asks_for_root
}

# seccompProfile_restricted (not for Windows pods)
pod_seccomp_valid if object.get(pod_sc, ["seccompProfile", "type"], "") in seccomp_allowed_types

seccomp_implicit_ctrs := {c.name |
	some c in containers
	setting(c.sc, "seccompProfile") == null
	not pod_seccomp_valid
}

violations contains violation(
	"pss.restricted.seccomp_profile_restricted", "seccompProfile_restricted", "restricted", "deny", "medium",
	concat("", [
		setters(bad_seccomp_pod, bad_seccomp_ctrs),
		" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
	]),
	[],
) if {
	applies
	restricted_on
	not windows
	any_bad_seccomp
}

violations contains violation(
	"pss.restricted.seccomp_profile_restricted", "seccompProfile_restricted", "restricted", "fix", "medium",
	concat("", [
		"the pod or ", ctrs(seccomp_implicit_ctrs),
		" must set securityContext.seccompProfile.type; belay sets RuntimeDefault on the pod",
	]),
	pod_fix("seccompProfile"),
) if {
	seccomp_fixable
}

seccomp_fixable if {
	applies
	restricted_on
	not windows
	not any_bad_seccomp
	count(seccomp_implicit_ctrs) > 0
}

# capabilities_restricted (not for Windows pods)
restricted_caps_bad := {[c.name, cap] |
	some c in containers
	some cap in add_caps(c)
	not cap in cfg.podSecurity.restrictedCapabilities
}

missing_drop_all := {c | some c in containers; not "ALL" in drops(c)}

violations contains violation(
	"pss.restricted.capabilities_restricted", "capabilities_restricted", "restricted", "deny", "medium",
	concat("", [
		ctrs({x[0] | some x in restricted_caps_bad}), " must not add ", util.qlist({x[1] | some x in restricted_caps_bad}),
		"; drop ALL capabilities and add back at most NET_BIND_SERVICE",
	]),
	[],
) if {
	applies
	restricted_on
	not windows
	count(restricted_caps_bad) > 0
}

violations contains violation(
	"pss.restricted.capabilities_restricted", "capabilities_restricted", "restricted", "fix", "medium",
	concat("", [
		ctrs({c.name | some c in missing_drop_all}),
		" must drop ALL capabilities; belay adds \"ALL\" to securityContext.capabilities.drop",
	]),
	[op | some c in missing_drop_all; some op in container_fix(c, "capabilities")],
) if {
	applies
	restricted_on
	not windows
	count(missing_drop_all) > 0
}

# procMount_restricted: Default only, even in a user namespace
violations contains violation(
	"pss.restricted.proc_mount_restricted", "procMount_restricted", "restricted", "deny", "medium",
	concat("", [
		ctrs(unmasked_ctrs),
		" must not set securityContext.procMount to anything but Default; remove it",
	]),
	[],
) if {
	applies
	restricted_on
	count(unmasked_ctrs) > 0
}

# === fixes ===============================================================
# Fixes for one securityContext are planned together: when the
# securityContext is missing, one `add` creates it with every field belay
# sets there (a JSON-patch add to a missing parent would fail), and every
# violation that needs that securityContext carries the same operation.

pod_desired contains "runAsNonRoot" if rnr_fixable

pod_desired contains "seccompProfile" if seccomp_fixable

pod_values := {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}

pod_fix(_) := [{
	"op": "add",
	"path": concat("", [ps.base, "/securityContext"]),
	"value": {k: pod_values[k] | some k in pod_desired},
}] if not pod_has_sc

pod_fix(field) := [{
	"op": "add",
	"path": concat("", [ps.base, "/securityContext/", field]),
	"value": pod_values[field],
}] if pod_has_sc

container_desired(c) := {f |
	some f in ["allowPrivilegeEscalation", "capabilities"]
	container_wants(c, f)
}

container_wants(c, "allowPrivilegeEscalation") if setting(c.sc, "allowPrivilegeEscalation") == null

container_wants(c, "capabilities") if not "ALL" in drops(c)

container_values := {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}

container_fix(c, _) := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext"]),
	"value": {f: container_values[f] | some f in container_desired(c)},
}] if not c.has_sc

container_fix(c, "allowPrivilegeEscalation") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/allowPrivilegeEscalation"]),
	"value": false,
}] if c.has_sc

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities"]),
	"value": {"drop": ["ALL"]},
}] if {
	c.has_sc
	not is_object(setting(c.sc, "capabilities"))
}

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities/drop"]),
	"value": ["ALL"],
}] if {
	c.has_sc
	caps := setting(c.sc, "capabilities")
	is_object(caps)
	not is_array(object.get(caps, "drop", null))
}

container_fix(c, "capabilities") := [{
	"op": "add",
	"path": concat("", [c.path, "/securityContext/capabilities/drop/-"]),
	"value": "ALL",
}] if {
	c.has_sc
	is_array(c.sc.capabilities.drop)
}

# === namespace labels =========================================================
# An agent must not loosen Pod Security by relabelling a namespace.
pss_labels(o) := {k: v |
	some k, v in object.get(o, ["metadata", "labels"], {})
	startswith(k, "pod-security.kubernetes.io/")
}

violations contains {
	"rule": "pss.namespace_labels",
	"message": concat("", [
		req.subject, ": agents must not change pod-security.kubernetes.io/* labels (Pod Security levels); ",
		"ask a platform owner to change the namespace's level",
	]),
	"severity": "high",
	"action": "defer",
	"fixes": [],
} if {
	req.agent
	req.kind == "Namespace"
	req.operation == "UPDATE"
	pss_labels(req.old_or_empty) != pss_labels(req.obj_or_empty)
}

violations contains {
	"rule": "pss.namespace_labels",
	"message": concat("", [
		req.subject, ": agents must not create namespaces with a Pod Security level below ",
		util.q(cfg.podSecurity.default), "; ask a platform owner",
	]),
	"severity": "high",
	"action": "defer",
	"fixes": [],
} if {
	req.agent
	req.kind == "Namespace"
	req.operation == "CREATE"
	raw := pss_labels(req.obj_or_empty)[cfg.podSecurity.labelKey]
	level_rank[label_level(raw)] < level_rank[cfg.podSecurity.default]
}

level_rank := {"privileged": 0, "baseline": 1, "restricted": 2}
