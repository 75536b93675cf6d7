# Configuration: data.json against the defaults, partial and missing data.
package belay.lib.config_test

import rego.v1

import data.belay.lib.config

# data.json holds every default; the only value it adds is the safe sysctl
# list (kept out of the compiled module, see lib/config.rego).
test_data_json_matches_the_documented_defaults if {
	object.remove(data.belay.config, ["podSecurity"]) == object.remove(config.defaults, ["podSecurity"])
	object.remove(data.belay.config.podSecurity, ["safeSysctls"]) == object.remove(config.defaults.podSecurity, ["safeSysctls"])
	config.defaults.podSecurity.safeSysctls == []
	count(data.belay.config.podSecurity.safeSysctls) == 14
}

test_safe_sysctls_without_data_refuse_every_sysctl if {
	config.cfg.podSecurity.safeSysctls == [] with data.belay.config as {}
}

test_partial_data_is_completed_by_defaults if {
	c := config.cfg with data.belay.config as {"confidenceThreshold": 0.9, "production": {"namePrefixes": ["live"]}}
	c.confidenceThreshold == 0.9
	c.production.namePrefixes == ["live"]
	c.production.nameSuffixes == ["-prod", "-production"]
	c.podSecurity.default == "restricted"
}

test_missing_data_falls_back_to_defaults if {
	c := config.cfg with data.belay.config as null
	c == config.defaults
}
