# Agent context: confidence and remediation target.
package belay.admission.context_test

import rego.v1

import data.belay.test

cm := test.configmap

ctx_input(ctx) := test.with_context(test.admission("CREATE", cm, "team-a"), ctx)

test_context_low_confidence if {
	d := test.admit(ctx_input({"workflow": "wf", "confidence": 0.5, "remediationTarget": "ConfigMap/c"}))
	d.decision == "defer"
	test.rules(d) == {"context.low_confidence"}
	contains(d.reasons[0].message, "confidence 0.5, below the 0.8 threshold")
	contains(d.reasons[0].message, "from workflow \"wf\"")
}

test_context_threshold_from_data if {
	inp := ctx_input({"confidence": 0.85, "remediationTarget": "ConfigMap/c"})
	test.admit(inp).decision == "allow"
	test.admit(inp).decision == "defer" with data.belay.config.confidenceThreshold as 0.9
	test.admit(ctx_input({"confidence": 0.8, "remediationTarget": "ConfigMap/c"})).decision == "allow"
}

test_context_confidence_as_string_or_missing if {
	test.admit(ctx_input({"confidence": "0.95", "remediationTarget": "x"})).decision == "allow"
	test.admit(ctx_input({"confidence": "high", "remediationTarget": "x"})).decision == "defer"
	d := test.admit(ctx_input({"workflow": "wf", "remediationTarget": "x"}))
	contains(d.reasons[0].message, "confidence (missing)")
}

test_context_no_target if {
	d := test.admit(ctx_input({"workflow": "wf", "confidence": 0.99}))
	test.rules(d) == {"context.no_target"}
}

test_no_context_no_judgement if {
	test.admit(test.admission("CREATE", cm, "team-a")).decision == "allow"
	test.admit(ctx_input({"rationale": "just because", "cluster": "c"})).decision == "allow"
}

test_context_from_annotations if {
	obj := object.union(cm, {"metadata": {"annotations": {"belay.dev/workflow": "wf", "belay.dev/confidence": "0.3", "belay.dev/remediation-target": "ConfigMap/c"}}})
	test.rules(test.admit(test.admission("CREATE", obj, "team-a"))) == {"context.low_confidence"}
}

test_context_reads_are_not_judged if {
	inp := object.union(ctx_input({"confidence": 0.1}), {"face": "authorization", "action": {"operation": "GET", "verb": "get"}, "resource": {"resource": "configmaps", "kind": ""}, "object": null})
	d := data.belay.authorization.decision with input as inp
	d.decision == "allow"
}
