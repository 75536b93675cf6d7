# Baseline seLinuxOptions: no custom SELinux user, role or type.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg

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
