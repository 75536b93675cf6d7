# Small string helpers shared by every package (plain string built-ins only:
# they compile natively into wasm).
package belay.lib.util

import rego.v1

# first(xs) is the first non-empty string in xs, or "" when there is none.
first(xs) := s if {
	strs := [x | some x in xs; is_string(x); x != ""]
	s := strs[0]
} else := ""

# q(s) quotes s for a message: "s".
q(s) := concat("", ["\"", s, "\""])

# qlist(xs) is "a", "b", "c" (sorted, de-duplicated).
qlist(xs) := concat(", ", [q(x) | some x in sort({y | some y in xs})])

# plural(n, one, many)
plural(n, one, _) := one if n == 1

plural(n, _, many) := many if n != 1

# ptr_escape(s) escapes one RFC 6901 JSON pointer segment.
ptr_escape(s) := replace(replace(s, "~", "~0"), "/", "~1") if is_string(s)

ptr_escape(n) := format_int(n, 10) if is_number(n)

# pointer(path) is the JSON pointer for a path array (as walk() yields it).
pointer(path) := concat("", ["/", concat("/", [ptr_escape(p) | some p in path])]) if count(path) > 0

pointer(path) := "" if count(path) == 0

# lower_set(xs) lower-cases every string in xs.
lower_set(xs) := {lower(x) | some x in xs; is_string(x)}

# name_matches(name, prefixes, suffixes, names) is true when the lower-cased
# name starts with a prefix, ends with a suffix or equals a listed name.
name_matches(name, prefixes, _, _) if {
	n := lower(name)
	some p in prefixes
	startswith(n, lower(p))
}

name_matches(name, _, suffixes, _) if {
	n := lower(name)
	some s in suffixes
	endswith(n, lower(s))
}

name_matches(name, _, _, names) if {
	lower(name) in lower_set(names)
}

severity_rank := {"critical": 0, "high": 1, "medium": 2, "low": 3}
