# Running as non-root: restricted runAsNonRoot (an explicit false is denied;
# unset is fixed at pod level unless something asks for root, and only when
# every container it reaches will still start: see "image-aware" below) and
# runAsUser (no UID 0). Both are relaxed for user namespaces (hostUsers:
# false), as upstream does from v1.35, unless
# podSecurity.relaxRunAsForUserNamespaces is set to false.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.images

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
		" must not run as root; belay sets securityContext.runAsNonRoot=true on the pod (each of their images runs as a non-zero UID, or runAsUser sets one)",
	]),
	pod_fix("runAsNonRoot"),
) if {
	rnr_plain_fix
}

rnr_fixable if {
	rnr_check
	not rnr_explicit
	not asks_for_root
	count(rnr_implicit_ctrs) > 0
}

# --- image-aware: when runAsNonRoot on the pod is a safe fix (docs/images.md) ---
# The kubelet starts a container under runAsNonRoot only when its effective
# runAsUser (the container's, else the pod's) is above 0, or, without one,
# when its image names a numeric UID above 0. A root image, a named user or
# an image belay knows nothing about would stop the workload: then the fix
# also sets the UID policy data opts in to (with a warning per container), or
# there is no fix and a person changes the workload (images.run_as_non_root,
# a defer the webhook sends to an approver and `belay check` reports as
# needing a human change).
effective_uid(c) := u if {
	u := setting(c.sc, "runAsUser")
	u != null
} else := setting(pod_sc, "runAsUser")

uid_safe(c) if {
	u := effective_uid(c)
	is_number(u)
	u > 0
}

uid_safe(c) if {
	effective_uid(c) == null
	images.non_root(c.ctr.image)
}

# The containers the pod-level fix reaches that it would stop.
rnr_unsafe contains c if {
	some c in containers
	c.name in rnr_implicit_ctrs
	not uid_safe(c)
}

# An operator who overrides the runAsNonRoot rule (data.belay.config.rules:
# deny, defer, warn or off) gets that action as before, with no image rules.
rnr_overridden if {
	a := cfg.rules["pss.restricted.run_as_non_root"].action
	a in {"deny", "defer", "warn", "off"}
}

rnr_image_aware if {
	rnr_fixable
	not rnr_overridden
}

rnr_safe_fix if {
	rnr_image_aware
	count(rnr_unsafe) == 0
}

rnr_plain_fix if rnr_safe_fix

rnr_plain_fix if {
	rnr_fixable
	rnr_overridden
}

# With policy's UID the fix sets runAsUser on the pod, which reaches only
# containers that set none of their own.
rnr_uid_fix if {
	rnr_image_aware
	count(rnr_unsafe) > 0
	images.opt_in_uid
	setting(pod_sc, "runAsUser") == null
	every c in rnr_unsafe {
		setting(c.sc, "runAsUser") == null
	}
}

violations contains violation(
	"pss.restricted.run_as_non_root", "runAsNonRoot", "restricted", "fix", "medium",
	concat("", [
		ctrs(rnr_implicit_ctrs),
		" must not run as root; belay sets securityContext.runAsNonRoot=true and runAsUser=", format_int(images.opt_in_uid, 10),
		" on the pod (data.belay.config.images.runAsUser), as not every image is known to run as a non-zero UID",
	]),
	pod_fix_all(["runAsNonRoot", "runAsUser"]),
) if {
	rnr_uid_fix
}

violations contains violation(
	"images.run_as_user", "runAsNonRoot", "restricted", "warn", "medium",
	images.with_uid(images.opt_in_uid, images.who(c.name, c.ctr.image)),
	[],
) if {
	rnr_uid_fix
	some c in rnr_unsafe
}

violations contains violation(
	"images.run_as_non_root", "runAsNonRoot", "restricted", "defer", "medium",
	unsafe_message(c),
	[],
) if {
	rnr_image_aware
	not rnr_uid_fix
	some c in rnr_unsafe
}

# A runAsUser that is set but not above 0 (0 itself is denied above).
unsafe_message(c) := concat("", [
	images.who(c.name, c.ctr.image), " sets runAsUser: ", format_int(effective_uid(c), 10),
	", so runAsNonRoot: true would stop it from starting; remove runAsUser or set it to a non-zero UID the image can run as",
]) if {
	is_number(effective_uid(c))
} else := images.human(c.ctr.image, images.who(c.name, c.ctr.image)) if {
	effective_uid(c) == null
} else := concat("", [
	images.who(c.name, c.ctr.image), " sets runAsUser to something that is not a UID, so runAsNonRoot: true cannot be trusted to let it start; set runAsUser to a non-zero UID the image can run as",
])

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
