# Pod Security Standards (v1.37), baseline and restricted, for every
# pod-bearing kind: package belay.admission.pss, one file per control (or
# small group of related controls) in this folder, each adding to the partial
# set `violations`. Rule ids are pss.<level>.<check>, where <check> is the
# upstream Pod Security admission check id in snake_case (so
# pss.baseline.capabilities_baseline is check `capabilities_baseline`); each
# message names the upstream check id too.
#
# What can be fixed without widening privileges is fixed by JSON patch (only
# ever adding restrictions, and only fields that are unset; see fixes.rego):
#   allowPrivilegeEscalation=false, capabilities.drop=[ALL],
#   seccompProfile.type=RuntimeDefault (pod level), runAsNonRoot=true (pod
#   level, when nothing asks for root and every container will still start:
#   its runAsUser or its image's user is a non-zero UID; see run_as.rego and
#   docs/images.md).
# Everything else is denied.
#
# This file: which level applies and when the checks run. The level comes
# from data.belay.config.podSecurity.namespaces[ns], else the namespace label
# pod-security.kubernetes.io/enforce (when labels are known), else
# podSecurity.default ("restricted"). An invalid label value means
# restricted, as in Kubernetes.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.podspec as ps
import data.belay.lib.request as req

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

# At restricted, upstream's restricted seccomp and capabilities checks take
# the place of the baseline ones (OverrideCheckIDs), and they exempt Windows
# pods (spec.os.name: windows): so do the baseline rules then.
overridden_for_windows if {
	restricted_on
	windows
}

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
	ps.template_changed
}

significant if {
	req.operation == "UPDATE"
	req.kind == "Pod"
	pod_spec_changed
}

# A Pod's spec changed beyond what Pod Security ignores: its deadline,
# tolerations and container images (see strip). From the gateway's list of
# changed paths when there is one, else by comparing the specs.
pod_spec_changed if {
	some p in req.changed
	p[0] == "spec"
	not ignored_pod_change(p)
}

pod_spec_changed if {
	not req.changed
	strip(ps.old_spec) != strip(ps.spec)
}

ignored_pod_change(p) if {
	count(p) > 1
	p[1] in {"activeDeadlineSeconds", "tolerations"}
}

ignored_pod_change(p) if {
	count(p) == 4
	p[1] in {"containers", "initContainers"}
	p[3] == "image"
}

strip(s) := object.union(
	object.remove(s, ["activeDeadlineSeconds", "tolerations", "containers", "initContainers"]),
	{
		"containers": no_images(object.get(s, "containers", [])),
		"initContainers": no_images(object.get(s, "initContainers", [])),
	},
)

no_images(cs) := [object.remove(c, ["image"]) | some c in cs]
