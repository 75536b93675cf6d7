# A remedy belay proposed is deferred when an agent applies it; later changes
# that keep its annotation are judged as usual.
package belay.admission.outcomes_test

import rego.v1

import data.belay.test

dep(annotations) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "web", "annotations": annotations},
	"spec": {"replicas": 2},
}

remedy := {"belay.dev/remedy-for": "team-a/belay-0123456789abcdef0123"}

test_applying_a_remedy_defers if {
	d := test.admit(test.update(dep({}), dep(remedy), "team-a"))
	d.decision == "defer"
	test.rules(d) == {"outcomes.remedy"}
	contains(d.reasons[0].message, "team-a/belay-0123456789abcdef0123")
}

test_a_remedy_created_anew_defers if {
	"outcomes.remedy" in test.rules(test.admit(test.admission("CREATE", dep(remedy), "team-a")))
}

test_later_changes_keeping_the_annotation_are_not_remedies if {
	d := test.admit(test.update(dep(remedy), dep(remedy), "team-a"))
	not "outcomes.remedy" in test.rules(d)
}

test_only_agents if {
	inp := test.as_actor(test.update(dep({}), dep(remedy), "team-a"), test.human)
	not "outcomes.remedy" in test.rules(data.belay.admission.decision) with input as inp
}

test_deletes_are_not_remedies_by_annotation if {
	not "outcomes.remedy" in test.rules(test.admit(test.delete(dep(remedy), "team-a")))
}
