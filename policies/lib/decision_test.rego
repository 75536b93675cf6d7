# The decision document: every face returns every key, aggregation, rule
# overrides and approval.
package belay.lib.decision_test

import rego.v1

import data.belay.lib.decision
import data.belay.test

keys := {"decision", "reasons", "fixes", "redact", "warnings", "approval", "mode", "wouldBe", "claim", "watch"}

defer_input := test.defer_input

deny_input := test.deny_input

fix_input := test.fix_input

allow_input := test.allow_input

test_every_face_returns_every_key_for_any_input if {
	every inp in [{}, {"actor": null}, {"object": "x"}, {"tool": {}}, {"content": {"text": 5}}, allow_input, deny_input] {
		every face in ["admission", "authorization", "toolcall", "toolresult", "prompt"] {
			d := data.belay[face].decision with input as inp
			object.keys(d) == keys
			is_array(d.reasons)
			is_array(d.fixes)
			is_array(d.redact)
			is_array(d.warnings)
		}
	}
}

test_allow_document if {
	d := test.admit(allow_input)
	d == {"decision": "allow", "reasons": [], "fixes": [], "redact": [], "warnings": [], "approval": null, "mode": "approve", "wouldBe": null, "claim": null, "watch": null}
}

test_defer_document_has_approval if {
	d := test.admit(defer_input)
	d.decision == "defer"
	d.approval == {"groups": ["belay:approvers"], "ttl": "15m", "risk": "high"}
	d.wouldBe == null
	d.mode == "approve"
}

test_deny_beats_defer_and_reasons_are_ordered if {
	vs := {
		{"rule": "b.fix", "message": "m3", "severity": "critical", "action": "fix", "fixes": [{"op": "add", "path": "/a", "value": 1}]},
		{"rule": "a.defer", "message": "m2", "severity": "low", "action": "defer"},
		{"rule": "c.deny", "message": "m1", "severity": "medium", "action": "deny"},
		{"rule": "d.deny", "message": "m0", "severity": "critical", "action": "deny"},
	}
	d := decision.document(vs) with input as {}
	d.decision == "deny"
	[r.rule | some r in d.reasons] == ["d.deny", "c.deny", "a.defer", "b.fix"]
	d.fixes == []
	d.approval == null
}

test_defer_carries_proposed_fixes if {
	vs := {
		{"rule": "a", "message": "m", "severity": "high", "action": "defer"},
		{"rule": "b", "message": "n", "severity": "low", "action": "fix", "fixes": [{"op": "add", "path": "/x", "value": 1}]},
	}
	d := decision.document(vs) with input as {}
	d.decision == "defer"
	d.fixes == [{"op": "add", "path": "/x", "value": 1}]
	d.warnings == []
}

test_fixes_are_deduplicated_and_ordered_by_path if {
	op1 := {"op": "add", "path": "/spec/securityContext", "value": {"a": 1}}
	op2 := {"op": "add", "path": "/spec/containers/0/securityContext", "value": {}}
	vs := {
		{"rule": "a", "message": "m", "severity": "low", "action": "fix", "fixes": [op1, op2]},
		{"rule": "b", "message": "n", "severity": "low", "action": "fix", "fixes": [op1]},
	}
	d := decision.document(vs) with input as {}
	d.fixes == [op2, op1]
	d.warnings == ["belay fixed: m (a)", "belay fixed: n (b)"]
}

test_duplicate_reasons_collapse if {
	vs := {
		{"rule": "a", "message": "m", "severity": "low", "action": "defer", "redact": ["/x"]},
		{"rule": "a", "message": "m", "severity": "low", "action": "defer", "redact": ["/y"]},
	}
	d := decision.document(vs) with input as {}
	count(d.reasons) == 1
	d.redact == ["/x", "/y"]
}

test_unknown_severity_and_action_fail_safe if {
	d := decision.document({{"rule": "a", "message": "m", "severity": "whatever", "action": "nonsense"}}) with input as {}
	d.decision == "deny"
	d.reasons == [{"rule": "a", "message": "m", "severity": "medium"}]
}

test_rule_override_changes_action if {
	d := test.admit(defer_input) with data.belay.config.rules as {"destructive.delete_production": {"action": "deny"}}
	d.decision == "deny"
}

test_rule_override_off_drops_the_rule if {
	d := test.admit(defer_input) with data.belay.config.rules as {"destructive.delete_production": {"action": "off"}}
	d.decision == "allow"
	d.reasons == []
}

test_rule_override_warn_allows_with_warning if {
	d := test.admit(defer_input) with data.belay.config.rules as {"destructive.delete_production": {"action": "warn"}}
	d.decision == "allow"
	startswith(d.warnings[0], "belay warning: deleting Deployment \"web\"")
}

test_rule_override_fix_needs_a_fix if {
	d := test.admit(defer_input) with data.belay.config.rules as {"destructive.delete_production": {"action": "fix"}}
	d.decision == "defer"
}

test_approval_groups_most_specific_scope if {
	groups := {"global": ["g"], "namespaces": {"prod-a": ["ns"]}, "agents": {}, "workflows": {"wf": ["wf-approvers"]}}
	d1 := test.admit(defer_input) with data.belay.config.approval.groups as groups
	d1.approval.groups == ["ns"]
	d2 := test.admit(test.with_context(defer_input, {"workflow": "wf", "confidence": 0.99, "remediationTarget": "Deployment/web"})) with data.belay.config.approval.groups as groups
		with data.belay.config.trust.claimants as {"wf": {"serviceAccounts": ["agents/remediator"]}}
	d2.approval.groups == ["wf-approvers"]
	d3 := test.admit(defer_input) with data.belay.config.approval.groups as {"global": ["g"], "agents": {"system:serviceaccount:agents:remediator": ["owners"]}}
	d3.approval.groups == ["owners"]
}

test_approval_ttl_from_data if {
	d := test.admit(defer_input) with data.belay.config.approval.ttl as "1h"
	d.approval.ttl == "1h"
}

test_approval_risk_is_the_worst_defer if {
	d := test.admit(test.delete({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-a"}}, ""))
	d.approval.risk == "critical"
}

test_dryrun_is_recorded_without_warning_or_effect if {
	vs := {
		{"rule": "gatekeeper.K/dry", "message": "would be refused", "severity": "medium", "action": "dryrun"},
		{"rule": "w", "message": "careful", "severity": "low", "action": "warn"},
	}
	d := decision.document(vs) with input as {}
	d.decision == "allow"
	[r.rule | some r in d.reasons] == ["w", "gatekeeper.K/dry"]
	d.warnings == ["belay warning: careful (w)"]
}

test_dryrun_adds_no_warning_in_observe_mode if {
	vs := {{"rule": "gatekeeper.K/dry", "message": "m", "severity": "medium", "action": "dryrun"}}
	d := decision.document(vs) with input as {} with data.belay.config.trust.global as "observe"
	d.decision == "allow"
	d.warnings == []
	count(d.reasons) == 1
}

# --- watch: what belay watches once it admits the change ---------------------

dep := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}}

test_an_approved_change_is_watched_with_the_data_window if {
	d := test.admit(defer_input)
	d.watch.triggers == ["approval", "workload"]
	d.watch.window == "5m"
	d.watch.settle == "30s"
	d.watch.notReadyAfter == "2m"
	d.watch.restartLimit == 3
	d.watch.trust == {"mode": "approve", "scope": "global", "subject": ""}
	w := test.admit(defer_input) with data.belay.config.outcomes.window as "90s"
	w.watch.window == "90s"
}

test_a_fix_is_watched if {
	d := test.admit(fix_input)
	d.decision == "allow"
	"fix" in d.watch.triggers
}

test_an_automate_pass_is_watched_with_its_scope if {
	inp := test.with_context(defer_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})
	d := test.admit(inp) with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as {"wf": {"serviceAccounts": ["agents/remediator"]}}
	d.decision == "allow"
	"automate" in d.watch.triggers
	d.watch.trust == {"mode": "automate", "scope": "workflow", "subject": "wf"}
}

test_a_rule_can_ask_for_a_watch if {
	vs := {{"rule": "team.watch", "message": "canary", "severity": "low", "action": "watch"}}
	d := decision.document(vs) with input as test.admission("CREATE", test.configmap, "team-a")
	d.decision == "allow"
	d.watch.triggers == ["policy"]
	d.warnings == ["belay watching the outcome: canary (team.watch)"]
}

test_agent_writes_to_watched_kinds_are_watched if {
	d := test.admit(test.update(dep, object.union(dep, {"spec": {"replicas": 3}}), "team-a"))
	d.decision == "allow"
	d.watch.triggers == ["workload"]
	scale := object.union(test.update(test.scale(2), test.scale(3), "team-a"), {"action": {"subresource": "scale"}, "resource": {"group": "apps", "resource": "deployments"}})
	test.admit(scale).watch.triggers == ["workload"]
	cm := test.admit(test.admission("CREATE", test.configmap, "team-a"))
	cm.watch == null
	none := test.admit(test.update(dep, dep, "team-a")) with data.belay.config.outcomes.watchKinds as []
	none.watch == null
}

test_nothing_is_watched_when_denied_read_or_disabled if {
	test.admit(deny_input).watch == null
	test.admit(defer_input).watch == null with data.belay.config.outcomes.enabled as false
	exec := object.union(test.admission("CONNECT", {"kind": "PodExecOptions"}, "prod-a"), {"action": {"subresource": "exec"}, "resource": {"resource": "pods", "kind": "PodExecOptions"}})
	test.admit(exec).watch == null
}

test_a_rule_override_to_watch_keeps_the_request_allowed if {
	d := test.admit(defer_input) with data.belay.config.rules as {"destructive.delete_production": {"action": "watch"}}
	d.decision == "allow"
	"policy" in d.watch.triggers
}
