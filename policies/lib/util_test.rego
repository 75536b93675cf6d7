# String helpers.
package belay.lib.util_test

import rego.v1

import data.belay.lib.util

test_util if {
	util.first(["", null, "a", "b"]) == "a"
	util.first([]) == ""
	util.qlist(["b", "a", "a"]) == "\"a\", \"b\""
	util.pointer(["data", "a/b~c"]) == "/data/a~1b~0c"
	util.pointer(["items", 0, "data"]) == "/items/0/data"
	util.pointer([]) == ""
}
