# The decision document: aggregates a face's violations and applies the trust
# ladder. Every face's entrypoint is `decision := decision.document(violations)`.
#
# A violation is {rule, message, severity, action, fixes?, redact?} with
# action "deny" | "defer" | "fix" | "warn" | "watch" (allowed; belay watches
# the outcome of the change once it is admitted, README "Outcomes") |
# "dryrun" (recorded in reasons and the decision log only: no warning, no
# effect on the decision; Gatekeeper constraints with enforcementAction
# dryrun). data.belay.config.rules[<rule>]
# .action overrides a rule's action ("off" drops it; "fix" only applies to
# violations that carry fixes or redactions).
#
# Aggregation: any deny → deny; else any defer → defer; else allow, with the
# fixes of the `fix` violations (and one warning per fix). Trust modes then
# soften the outcome: observe (and selective for untrusted workflows/agents)
# never blocks and applies no fixes; automate lets trusted workflows through
# a defer; deny always denies outside observe. `watch` says what belay
# watches after it admits the change (null: nothing).
package belay.lib.decision

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util
import data.belay.trust

actions := {"deny", "defer", "fix", "warn", "watch", "dryrun", "off"}

action_rank := {"deny": 0, "defer": 1, "fix": 2, "warn": 3, "watch": 4, "dryrun": 5}

severities := {"critical", "high", "medium", "low"}

override(rule) := a if {
	a := cfg.rules[rule].action
	a in actions
}

effective_action(v) := a if {
	a := override(v.rule)
	a != "fix"
} else := "fix" if {
	override(v.rule) == "fix"
	has_changes(v)
} else := v.action if {
	v.action in actions
} else := "deny"

has_changes(v) if count(object.get(v, "fixes", [])) > 0

has_changes(v) if count(object.get(v, "redact", [])) > 0

normalize(v) := {
	"rule": v.rule,
	"message": v.message,
	"severity": severity(v),
	"action": effective_action(v),
	"fixes": object.get(v, "fixes", []),
	"redact": object.get(v, "redact", []),
}

severity(v) := s if {
	s := v.severity
	s in severities
} else := "medium"

effective(vs) := {n | some v in vs; n := normalize(v); n.action != "off"}

raw_decision(vs) := "deny" if {
	some v in vs
	v.action == "deny"
} else := "defer" if {
	some v in vs
	v.action == "defer"
} else := "allow"

# ordered(vs) is the de-duplicated list of entries {action, severity, rule,
# message, change} sorted by action (deny, defer, fix, warn), then severity,
# rule id and message, so the first reason is the one kubectl prints.
ordered(vs) := [e |
	rows := {[action_rank[x.action], util.severity_rank[x.severity], x.rule, x.message, change(x)] | some x in vs}
	some row in sort(rows)
	e := {
		"action": action_by_rank[row[0]],
		"severity": severity_by_rank[row[1]],
		"rule": row[2],
		"message": row[3],
		"change": row[4],
	}
]

action_by_rank := {0: "deny", 1: "defer", 2: "fix", 3: "warn", 4: "watch", 5: "dryrun"}

severity_by_rank := {0: "critical", 1: "high", 2: "medium", 3: "low"}

change(v) := "fixed" if {
	count(v.fixes) > 0
} else := "redacted" if {
	count(v.redact) > 0
} else := ""

reasons(ovs) := [{"rule": v.rule, "message": v.message, "severity": v.severity} | some v in ovs]

# Fix operations of the `fix` violations, de-duplicated and ordered by path
# (a parent is always added before its children).
fix_ops(vs) := [op |
	ops := {o | some v in vs; v.action == "fix"; some o in v.fixes}
	some p in sort({o.path | some o in ops})
	some op in ops
	op.path == p
]

redactions(vs) := sort({p | some v in vs; some p in v.redact})

line(prefix, v) := concat("", [prefix, v.message, " (", v.rule, ")"])

risk(vs) := r if {
	ranks := {util.severity_rank[v.severity] | some v in vs; v.action == "defer"}
	count(ranks) > 0
	r := severity_by_rank[min(ranks)]
} else := "medium"

# How the trust mode applies to an outcome.
application(real) := "observe" if {
	trust.mode == "observe"
} else := "observe" if {
	trust.mode == "selective"
	not trust.trusted
} else := "automate" if {
	trust.mode == "automate"
	trust.trusted
	real == "defer"
} else := "enforce"

observe_verb := {"deny": "would deny", "defer": "would defer to an approver", "fix": "would fix", "warn": "warning", "watch": "watching the outcome"}

warnings(app, ovs, _) := [line(concat("", ["belay ", trust.mode, " (", trust.subject, "): ", observe_verb[v.action], ": "]), v) |
	some v in ovs
	v.action != "dryrun"
] if app == "observe"

warnings(app, ovs, _) := array.concat(
	[line("belay automate (trusted, no approval needed): ", v) | some v in ovs; v.action == "defer"],
	enforce_warnings(ovs, "allow"),
) if app == "automate"

warnings(app, ovs, final) := enforce_warnings(ovs, final) if app == "enforce"

enforce_warnings(ovs, final) := array.concat(
	[line(concat("", ["belay ", v.change, ": "]), v) |
		some v in ovs
		v.action == "fix"
		final == "allow"
		v.change != ""
	],
	array.concat(
		[line("belay warning: ", v) | some v in ovs; v.action == "warn"],
		[line("belay watching the outcome: ", v) | some v in ovs; v.action == "watch"],
	),
)

final_decision(_, app) := "allow" if app in {"observe", "automate"}

final_decision(real, "enforce") := real

# document(violations) is the full decision document.
document(violations) := doc if {
	vs := effective(violations)
	ovs := ordered(vs)
	real := raw_decision(vs)
	app := application(real)
	final := final_decision(real, app)
	doc := {
		"decision": final,
		"reasons": reasons(ovs),
		"fixes": fixes_for(vs, app, final),
		"redact": redactions(vs),
		"warnings": array.concat(trust.claim_warnings, array.concat(demotion_warnings, warnings(app, ovs, final))),
		"approval": approval(vs, final),
		"mode": trust.mode,
		"wouldBe": would_be(real, final),
		"claim": trust.claim,
		"watch": watch_doc(vs, app, final),
	}
}

fixes_for(_, app, _) := [] if app == "observe"

fixes_for(_, app, final) := [] if {
	app != "observe"
	final == "deny"
}

fixes_for(vs, app, final) := fix_ops(vs) if {
	app != "observe"
	final != "deny"
}

approval(vs, "defer") := {"groups": trust.approver_groups, "ttl": trust.ttl, "risk": risk(vs)}

approval(_, final) := null if final != "defer"

would_be(real, final) := real if real != final

would_be(real, final) := null if real == final

# A workflow (agent, namespace) that automate graduated, demoted by its
# outcomes' circuit breaker (policies/trust/trust.rego): said on every request.
demotion_warnings := [concat("", [
	"belay: ", trust.subject, " is demoted from automate to approve: ",
	format_int(object.get(trust.breaker, "failures", 0), 10), " automated changes in a row failed (breaker ",
	object.get(trust.breaker, "id", ""), "); a policy change that acknowledges it re-promotes it",
])] if {
	trust.demoted
} else := []

# --- outcomes: what belay watches after it admits the change ----------------

writes := {"CREATE", "UPDATE", "DELETE"}

# Why this change is worth watching once admitted: an approval admits it
# (approval), trust let it through a defer (automate), belay fixed it (fix),
# a rule asked (policy), or it is an agent's write to a kind whose health
# belay can judge (workload).
watch_triggers(vs, app, final) := {t | some t in trigger_names; trigger(t, vs, app, final)}

trigger_names := ["approval", "automate", "fix", "policy", "workload"]

trigger("approval", _, _, "defer")

trigger("automate", _, "automate", _)

trigger("fix", vs, app, "allow") if {
	app != "observe"
	count(fix_ops(vs)) > 0
}

trigger("policy", vs, _, _) if {
	some v in vs
	v.action == "watch"
}

trigger("workload", _, _, _) if {
	req.agent
	req.kind in cfg.outcomes.watchKinds
	req.subresource in {"", "scale"}
}

# null, or {window, settle, notReadyAfter, restartLimit, triggers, trust}:
# durations as Go strings; trust names the mode and the scope it came from,
# which the breaker counts automated outcomes by.
watch_doc(vs, app, final) := w if {
	cfg.outcomes.enabled == true
	req.operation in writes
	final != "deny"
	triggers := watch_triggers(vs, app, final)
	count(triggers) > 0
	w := {
		"window": cfg.outcomes.window,
		"settle": cfg.outcomes.settle,
		"notReadyAfter": cfg.outcomes.notReadyAfter,
		"restartLimit": cfg.outcomes.restartLimit,
		"triggers": sort(triggers),
		"trust": {"mode": trust.mode, "scope": trust.scope, "subject": trust.scope_subject},
	}
} else := null
