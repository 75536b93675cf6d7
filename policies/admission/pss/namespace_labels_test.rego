# Pod Security: agents relabelling or creating namespaces.
package belay.admission.pss_test

import rego.v1

import data.belay.test

ns(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": labels}}

test_agent_relabelling_pod_security_defers if {
	old := ns({"pod-security.kubernetes.io/enforce": "restricted"})
	new := ns({"pod-security.kubernetes.io/enforce": "privileged"})
	d := test.admit(test.update(old, new, ""))
	d.decision == "defer"
	"pss.namespace_labels" in test.rules(d)
}

test_agent_other_label_change_is_fine if {
	old := ns({"pod-security.kubernetes.io/enforce": "restricted", "team": "a"})
	new := ns({"pod-security.kubernetes.io/enforce": "restricted", "team": "b"})
	test.admit(test.update(old, new, "")).decision == "allow"
}

test_agent_creating_weaker_namespace_defers if {
	"pss.namespace_labels" in test.rules(test.admit(test.admission("CREATE", ns({"pod-security.kubernetes.io/enforce": "baseline"}), "")))
	test.admit(test.admission("CREATE", ns({"pod-security.kubernetes.io/enforce": "restricted"}), "")).decision == "allow"
	test.admit(test.admission("CREATE", ns({}), "")).decision == "allow"
}
