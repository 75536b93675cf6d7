# The trust ladder: mode resolution, and each mode on the admission face and
# on the agent gate faces (one request, four modes).
package belay.trust_test

import rego.v1

import data.belay.test
import data.belay.trust

defer_input := test.defer_input

deny_input := test.deny_input

fix_input := test.fix_input

# The remediator may claim the workflows these tests trust.
claimants := {
	"wf": {"serviceAccounts": ["agents/remediator"]},
	"db-debug-v1": {"serviceAccounts": ["agents:remediator"]},
}

test_default_mode_is_approve if {
	trust.mode == "approve" with input as {}
	trust.mode == "approve" with input as {} with data.belay.config.trust.global as "bogus"
}

test_mode_precedence if {
	t := {
		"global": "observe",
		"namespaces": {"prod-a": "selective"},
		"agents": {"system:serviceaccount:agents:remediator": "approve"},
		"workflows": {"wf": "automate"},
		"trusted": {"workflows": [], "agents": [], "namespaces": {}},
		"claimants": claimants,
	}
	trust.mode == "observe" with input as {} with data.belay.config.trust as t
	trust.mode == "selective" with input as {"resource": {"namespace": "prod-a"}} with data.belay.config.trust as t
	trust.mode == "approve" with input as defer_input with data.belay.config.trust as t
	trust.mode == "automate" with input as test.with_context(defer_input, {"workflow": "wf"}) with data.belay.config.trust as t
}

test_observe_never_blocks if {
	every inp in [defer_input, deny_input] {
		d := test.admit(inp) with data.belay.config.trust.global as "observe"
		real := test.admit(inp)
		d.decision == "allow"
		d.wouldBe == real.decision
		d.mode == "observe"
		d.fixes == []
		d.approval == null
		d.reasons == real.reasons
		count(d.warnings) == count(d.reasons)
		startswith(d.warnings[0], "belay observe (agent \"system:serviceaccount:agents:remediator\"): would ")
	}
}

test_observe_applies_no_fixes if {
	d := test.admit(fix_input) with data.belay.config.trust.global as "observe"
	d.decision == "allow"
	d.fixes == []
	d.wouldBe == null
	contains(d.warnings[0], "would fix")
}

test_observe_keeps_redaction if {
	inp := {"face": "toolresult", "content": {"value": {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}}}
	d := data.belay.toolresult.decision with input as inp with data.belay.config.trust.global as "observe"
	d.redact == ["/data/k"]
}

test_selective_observes_untrusted if {
	d := test.admit(defer_input) with data.belay.config.trust.global as "selective"
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "selective"
	startswith(d.warnings[0], "belay selective")
}

test_selective_enforces_trusted_agents_and_workflows if {
	d1 := test.admit(defer_input) with data.belay.config.trust.global as "selective"
		with data.belay.config.trust.trusted.agents as ["system:serviceaccount:agents:remediator"]
	d1.decision == "defer"
	inp := test.with_context(defer_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})
	d2 := test.admit(inp) with data.belay.config.trust.global as "selective"
		with data.belay.config.trust.trusted.workflows as ["wf"]
		with data.belay.config.trust.claimants as claimants
	d2.decision == "defer"
	d3 := test.admit(inp) with data.belay.config.trust.global as "selective"
		with data.belay.config.trust.trusted.namespaces as {"prod-a": {"workflows": ["wf"]}}
		with data.belay.config.trust.claimants as claimants
	d3.decision == "defer"
	d4 := test.admit(fix_input) with data.belay.config.trust.global as "selective"
		with data.belay.config.trust.trusted.agents as ["system:serviceaccount:agents:remediator"]
	count(d4.fixes) > 0
}

test_automate_lets_trusted_workflows_through_a_defer if {
	inp := test.with_context(defer_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})
	d := test.admit(inp) with data.belay.config.trust.global as "automate"
		with data.belay.config.trust.trusted.workflows as ["wf"]
		with data.belay.config.trust.claimants as claimants
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "automate"
	d.approval == null
	startswith(d.warnings[0], "belay automate (trusted, no approval needed): deleting Deployment")
}

test_automate_by_workflow_scope_is_a_graduation if {
	inp := test.with_context(defer_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})
	d := test.admit(inp) with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	d.decision == "allow"
	d.claim == {"workflow": "wf", "honored": true}
}

test_automate_still_denies if {
	inp := test.with_context(deny_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Pod/p"})
	d := test.admit(inp) with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	d.decision == "deny"
	d.wouldBe == null
}

test_automate_untrusted_behaves_like_approve if {
	d := test.admit(defer_input) with data.belay.config.trust.global as "automate"
	d.decision == "defer"
	d.mode == "automate"
}

test_automate_keeps_fixes if {
	d := test.admit(fix_input) with data.belay.config.trust.agents as {"system:serviceaccount:agents:remediator": "automate"}
	d.decision == "allow"
	count(d.fixes) > 0
}

# --- the gate faces: one request, four modes -------------------------------------

secret_call := {
	"face": "toolcall",
	"actor": test.agent,
	"tool": {"name": "resources_get", "arguments": {"kind": "Secret", "namespace": "shop", "name": "db"}, "target": {"verb": "get", "kind": "Secret", "namespace": "shop", "name": "db"}},
	"context": {"workflow": "db-debug-v1"},
}

in_mode(inp, trust) := d if {
	d := data.belay.toolcall.decision with input as inp with data.belay.config.trust as object.union({"claimants": claimants}, trust)
}

test_observe_allows_and_records_what_would_have_happened if {
	d := in_mode(secret_call, {"global": "observe"})
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "observe"
	startswith(d.warnings[0], "belay observe (workflow \"db-debug-v1\"): would defer to an approver:")
}

test_selective_observes_new_workflows_and_enforces_trusted_ones if {
	new := in_mode(secret_call, {"global": "selective"})
	new.decision == "allow"
	new.wouldBe == "defer"
	trusted := in_mode(secret_call, {"global": "selective", "trusted": {"workflows": ["db-debug-v1"]}})
	trusted.decision == "defer"
	trusted.wouldBe == null
}

test_approve_defers if {
	d := in_mode(secret_call, {"global": "approve"})
	d.decision == "defer"
	d.mode == "approve"
}

test_automate_lets_a_trusted_workflow_through_but_deny_still_denies if {
	d := in_mode(secret_call, {"global": "approve", "workflows": {"db-debug-v1": "automate"}})
	d.decision == "allow"
	d.wouldBe == "defer"
	d.mode == "automate"
	denied := data.belay.toolcall.decision with input as object.union(secret_call, {"tool": {"name": "kubectl_cp"}})
		with data.belay.config.trust as {"workflows": {"db-debug-v1": "automate"}, "claimants": claimants}
		with data.belay.config.toolcall.deniedTools as ["kubectl_cp"]
	denied.decision == "deny"
}

sar := {
	"face": "authorization",
	"actor": object.union(test.agent, {"extra": {"belay.dev/workflow": ["db-debug-v1"]}}),
	"action": {"operation": "GET", "verb": "get", "subresource": ""},
	"resource": {"group": "", "version": "v1", "kind": "Secret", "resource": "secrets", "namespace": "shop", "name": "db"},
	"context": {"workflow": "db-debug-v1", "source": "userinfo"},
}

authz_in(trust) := d if {
	d := data.belay.authorization.decision with input as sar with data.belay.config.trust as object.union({"claimants": claimants}, trust)
}

test_secret_read_per_mode if {
	authz_in({"global": "observe"}).decision == "allow"
	authz_in({"global": "selective"}).decision == "allow"
	authz_in({"global": "selective", "trusted": {"workflows": ["db-debug-v1"]}}).decision == "defer"
	authz_in({"global": "approve"}).decision == "defer"
	authz_in({"workflows": {"db-debug-v1": "automate"}}).decision == "allow"
}

# --- trust bound to identity: a workflow counts only for those listed for it -------

impostor := object.union(test.agent, {"username": "system:serviceaccount:agents:intruder", "serviceAccount": {"namespace": "agents", "name": "intruder"}})

claims_wf(actor) := test.with_context(object.union(defer_input, {"actor": actor}), {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})

test_an_unlisted_agent_claiming_a_trusted_workflow_is_deferred if {
	automate := {"global": "approve", "workflows": {"wf": "automate"}, "claimants": claimants}
	listed := test.admit(claims_wf(test.agent)) with data.belay.config.trust as automate
	listed.decision == "allow"
	listed.claim == {"workflow": "wf", "honored": true}

	d := test.admit(claims_wf(impostor)) with data.belay.config.trust as automate
	d.decision == "defer"
	d.mode == "approve"
	d.wouldBe == null
	d.claim == {"workflow": "wf", "honored": false}
	startswith(d.warnings[0], "belay trust: workflow \"wf\" is trusted only for the identities data.belay.config.trust.claimants lists for it, and \"system:serviceaccount:agents:intruder\" is not one of them")
}

test_a_trusted_workflow_with_no_claimants_is_trusted_for_nobody if {
	d := test.admit(claims_wf(test.agent)) with data.belay.config.trust as {"global": "approve", "trusted": {"workflows": ["wf"]}}
		with data.belay.config.trust.global as "automate"
	d.decision == "defer"
	d.claim.honored == false
}

test_an_unlisted_claim_does_not_pick_the_workflows_approvers if {
	groups := {"global": ["g"], "workflows": {"wf": ["lenient-approvers"]}}
	d := test.admit(claims_wf(impostor)) with data.belay.config.approval.groups as groups
	d.approval.groups == ["g"]
	ok := test.admit(claims_wf(test.agent)) with data.belay.config.approval.groups as groups
		with data.belay.config.trust.claimants as claimants
	ok.approval.groups == ["lenient-approvers"]
}

test_claimants_by_user_and_group if {
	automate := {"workflows": {"wf": "automate"}, "claimants": {"wf": {"users": ["ci-bot"], "groups": ["remediators"]}}}
	by_user := test.admit(claims_wf({"username": "ci-bot", "groups": [], "agent": true})) with data.belay.config.trust as automate
	by_user.decision == "allow"
	by_group := test.admit(claims_wf({"username": "other-bot", "groups": ["remediators"], "agent": true})) with data.belay.config.trust as automate
	by_group.decision == "allow"
	neither := test.admit(claims_wf({"username": "other-bot", "groups": ["x"], "agent": true})) with data.belay.config.trust as automate
	neither.decision == "defer"
}

test_a_workflow_nothing_singles_out_is_claimed_as_it_is if {
	d := test.admit(claims_wf(impostor))
	d.claim == {"workflow": "wf", "honored": true}
	every w in d.warnings {
		not startswith(w, "belay trust")
	}
	no_claim := test.admit(defer_input)
	no_claim.claim == null
}

test_an_unlisted_tool_call_claim_is_unknown_too if {
	call := object.union(secret_call, {"actor": impostor})
	d := data.belay.toolcall.decision with input as call with data.belay.config.trust as {"global": "approve", "workflows": {"db-debug-v1": "automate"}, "claimants": claimants}
	d.decision == "defer"
	d.claim == {"workflow": "db-debug-v1", "honored": false}
}

# --- the outcomes' circuit breaker ----------------------------------------------

graduated := test.with_context(defer_input, {"workflow": "wf", "confidence": 0.9, "remediationTarget": "Deployment/web"})

tripped := {"id": "workflow:wf@2026-12-06T10:00:00Z", "trippedAt": "2026-12-06T10:00:00Z", "failures": 3}

with_breakers(inp, breakers) := object.union(inp, {"outcomes": {"breakers": breakers}})

test_a_tripped_breaker_demotes_automate_to_approve if {
	inp := with_breakers(graduated, {"workflow:wf": tripped})
	trust.mode == "approve" with input as inp with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	trust.demoted with input as inp with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	d := test.admit(inp) with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	d.decision == "defer"
	d.mode == "approve"
	d.approval != null
	startswith(d.warnings[0], "belay: workflow \"wf\" is demoted from automate to approve: 3 automated changes in a row failed (breaker workflow:wf@2026-12-06T10:00:00Z)")
	d.watch.trust == {"mode": "approve", "scope": "workflow", "subject": "wf"}
}

test_an_acknowledged_trip_no_longer_demotes if {
	inp := with_breakers(graduated, {"workflow:wf": tripped})
	d := test.admit(inp) with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
		with data.belay.config.outcomes.breaker.acknowledged as [tripped.id]
	d.decision == "allow"
	d.mode == "automate"
	not trust.demoted with input as inp with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
		with data.belay.config.outcomes.breaker.acknowledged as [tripped.id]
}

test_a_breaker_demotes_only_the_scope_it_tripped_for if {
	inp := with_breakers(graduated, {"workflow:other": tripped})
	test.admit(inp).decision == "allow" with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
	g := with_breakers(defer_input, {"global:": tripped})
	test.admit(g).decision == "defer" with data.belay.config.trust.global as "automate"
		with data.belay.config.trust.trusted.agents as ["system:serviceaccount:agents:remediator"]
	test.admit(g).decision == "allow" with data.belay.config.trust.global as "automate"
		with data.belay.config.trust.trusted.agents as ["system:serviceaccount:agents:remediator"]
		with data.belay.config.outcomes.breaker.acknowledged as [tripped.id]
}

test_a_breaker_never_changes_other_modes if {
	inp := with_breakers(defer_input, {"global:": tripped, "agent:system:serviceaccount:agents:remediator": tripped})
	trust.mode == "observe" with input as inp with data.belay.config.trust.global as "observe"
	not trust.demoted with input as inp with data.belay.config.trust.global as "observe"
	d := test.admit(inp)
	d.warnings == []
}

test_a_malformed_breaker_input_is_ignored if {
	inp := object.union(graduated, {"outcomes": {"breakers": {"workflow:wf": "tripped"}}})
	trust.mode == "automate" with input as inp with data.belay.config.trust.workflows as {"wf": "automate"}
		with data.belay.config.trust.claimants as claimants
}
