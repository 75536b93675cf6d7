# Capabilities: baseline capabilities_baseline (only the runtime's default
# capabilities may be added) and restricted capabilities_restricted (drop
# ALL, add back at most NET_BIND_SERVICE; a missing drop of ALL is fixed).
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.util

# The capabilities a container adds and drops ([] when unset or malformed).
add_caps(c) := a if {
	a := c.sc.capabilities.add
	is_array(a)
} else := []

drops(c) := d if {
	d := c.sc.capabilities.drop
	is_array(d)
} else := []

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
	not overridden_for_windows
	count(baseline_caps_bad) > 0
}

# capabilities_restricted (not for Windows pods)
restricted_caps_bad := {[c.name, cap] |
	some c in containers
	some cap in add_caps(c)
	not cap in cfg.podSecurity.restrictedCapabilities
}

missing_drop_all := [c | some c in containers; not "ALL" in drops(c)]

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
