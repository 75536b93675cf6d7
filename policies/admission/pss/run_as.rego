# Running as non-root: restricted runAsNonRoot (an explicit false is denied;
# unset is fixed at pod level unless something asks for root) and runAsUser
# (no UID 0). Both are relaxed for user namespaces (hostUsers: false), as
# upstream does from v1.35, unless podSecurity.relaxRunAsForUserNamespaces is
# set to false.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg

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
