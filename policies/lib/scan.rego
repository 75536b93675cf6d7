# Credential detection in text: data.belay.config.secretPatterns, each an RE2
# pattern with a cheap `hint` substring tested first.
package belay.lib.scan

import rego.v1

import data.belay.lib.config.cfg

# findings(text) is the set of pattern ids found in text.
findings(text) := {p.id |
	is_string(text)
	some p in cfg.secretPatterns
	contains(text, object.get(p, "hint", ""))
	regex.match(p.pattern, text)
}

# describe(ids) is a human list of what was found.
describe(ids) := concat(", ", sort({d |
	some p in cfg.secretPatterns
	p.id in ids
	d := object.get(p, "description", p.id)
}))

# String leaves of a JSON value that contain credentials: [pointer, ids].
leaks(value) := {[path, ids] |
	walk(value, [path, leaf])
	is_string(leaf)
	count(leaf) >= 8
	ids := findings(leaf)
	count(ids) > 0
}
