# Interactive access: exec, attach and port-forward.
package belay.admission.interactive_test

import rego.v1

import data.belay.test

connect(sub, ns) := {
	"actor": test.agent,
	"action": {"operation": "CONNECT", "verb": "create", "subresource": sub},
	"resource": {"group": "", "kind": "PodExecOptions", "resource": "pods", "namespace": ns, "name": "web-1"},
	"object": {"kind": "PodExecOptions", "command": ["sh"]},
	"namespace": {"name": ns},
}

test_interactive_in_production_defers if {
	every sub in ["exec", "attach", "portforward"] {
		d := test.admit(connect(sub, "prod-a"))
		d.decision == "defer"
		test.rules(d) == {concat(".", ["interactive", sub])}
	}
}

test_interactive_elsewhere_is_allowed if {
	test.admit(connect("exec", "team-a")).decision == "allow"
	test.admit(connect("exec", "team-a")).decision == "defer" with data.belay.config.interactive.everywhere as true
	test.admit(connect("proxy", "prod-a")).decision == "allow"
	test.admit(test.as_actor(connect("exec", "prod-a"), test.human)).decision == "allow"
}
