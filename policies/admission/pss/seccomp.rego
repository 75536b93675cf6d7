# Seccomp: baseline seccompProfile_baseline (no Unconfined) and restricted
# seccompProfile_restricted (a profile must be set; a missing one is fixed at
# pod level with RuntimeDefault; not for Windows pods).
package belay.admission.pss

import rego.v1

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
	not overridden_for_windows
	any_bad_seccomp
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
