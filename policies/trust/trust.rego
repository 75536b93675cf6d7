# The trust ladder (observe → selective → approve → automate), data-driven.
# The mode for a request comes from the most specific scope configured in
# data.belay.config.trust: workflow > agent (username) > namespace > global.
# An unknown or missing mode falls back to `approve` (fail safe).
#
# The workflow is what the request claims (an annotation, the user's extra,
# the agent API's context): anyone can claim any name. So a workflow these
# settings mention (a mode, a trusted list, its own approver groups) counts
# only for the identities trust.claimants lists for it; for anyone else the
# claim is an unknown workflow, and the decision says so (`claim`, a warning).
#
# A scope graduated to `automate` is demoted to `approve` while its outcomes'
# circuit breaker is tripped (input.outcomes.breakers, kept by the gateway
# from the outcomes it watched) and the trip is not acknowledged in
# data.belay.config.outcomes.breaker.acknowledged: only a policy change
# undoes it.
package belay.trust

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.identity
import data.belay.lib.request as req
import data.belay.lib.util

modes := {"observe", "selective", "approve", "automate"}

# The workflow the request names, honoured or not.
claimed := req.workflow

# The workflow trust is resolved for: the claimed one when the claim holds.
workflow := claimed if claim_holds

else := ""

# A workflow the trust settings single out.
governed(wf) if cfg.trust.workflows[wf]

governed(wf) if wf in cfg.trust.trusted.workflows

governed(wf) if {
	some entry in cfg.trust.trusted.namespaces
	wf in object.get(entry, "workflows", [])
}

governed(wf) if is_array(cfg.approval.groups.workflows[wf])

# Whether the actor is one of the identities listed for `wf`.
may_claim(wf) if {
	sa := identity.service_account(req.actor)
	some entry in object.get(cfg.trust.claimants, [wf, "serviceAccounts"], [])
	entry in identity.sa_refs(sa)
}

may_claim(wf) if {
	req.username != ""
	req.username in object.get(cfg.trust.claimants, [wf, "users"], [])
}

may_claim(wf) if {
	some g in object.get(req.actor, "groups", [])
	g in object.get(cfg.trust.claimants, [wf, "groups"], [])
}

claim_holds if {
	claimed != ""
	not governed(claimed)
}

claim_holds if {
	claimed != ""
	may_claim(claimed)
}

# What the decision records of the claim: null without one.
claim := {"workflow": claimed, "honored": true} if claim_holds

else := {"workflow": claimed, "honored": false} if claimed != ""

else := null

# A claim that did not hold, said where the agent (and the log) sees it.
claim_warnings := [concat("", [
	"belay trust: workflow ", util.q(claimed), " is trusted only for the identities data.belay.config.trust.claimants lists for it, and ",
	util.q(identity.display(req.actor)), " is not one of them, so its claim counts as an unknown workflow",
])] if {
	claimed != ""
	not claim_holds
}

else := []

username := req.username

namespace := req.namespace

# configured is [mode, scope] for the most specific scope with a valid mode.
configured := [m, "workflow"] if {
	workflow != ""
	m := cfg.trust.workflows[workflow]
	m in modes
} else := [m, "agent"] if {
	username != ""
	m := cfg.trust.agents[username]
	m in modes
} else := [m, "namespace"] if {
	namespace != ""
	m := cfg.trust.namespaces[namespace]
	m in modes
} else := [m, "global"] if {
	m := cfg.trust.global
	m in modes
} else := ["approve", "default"]

# scoped is what applies: the configured mode, or approve while demoted.
scoped := ["approve", configured[1]] if {
	configured[0] == "automate"
	demoted
} else := configured

mode := scoped[0]

scope := scoped[1]

# The name within its scope: the workflow, the username, the namespace ("" for global).
scope_subject := workflow if {
	scope == "workflow"
} else := username if {
	scope == "agent"
} else := namespace if {
	scope == "namespace"
} else := ""

configured_subject := workflow if {
	configured[1] == "workflow"
} else := username if {
	configured[1] == "agent"
} else := namespace if {
	configured[1] == "namespace"
} else := ""

# The breaker of the scope that graduated this request, keyed "<scope>:<name>"
# as the gateway writes it ("workflow:restart-pod-v1", "global:").
breaker_key := concat(":", [configured[1], configured_subject])

breaker := b if {
	b := input.outcomes.breakers[breaker_key]
	is_object(b)
	not acknowledged(b)
}

acknowledged(b) if b.id in cfg.outcomes.breaker.acknowledged

demoted if {
	configured[0] == "automate"
	breaker
}

# trusted: the workflow or agent is listed as trusted globally or for the
# request's namespace, or it was graduated explicitly by giving its own
# workflow/agent scope the `automate` mode.
trusted if {
	workflow != ""
	workflow in cfg.trust.trusted.workflows
}

trusted if {
	username != ""
	username in cfg.trust.trusted.agents
}

trusted if {
	workflow != ""
	workflow in object.get(cfg.trust.trusted.namespaces, [namespace, "workflows"], [])
}

trusted if {
	username != ""
	username in object.get(cfg.trust.trusted.namespaces, [namespace, "agents"], [])
}

trusted if {
	scope in {"workflow", "agent"}
	mode == "automate"
}

# Who may approve: the most specific scope's groups.
approver_groups := g if {
	workflow != ""
	g := cfg.approval.groups.workflows[workflow]
	is_array(g)
} else := g if {
	username != ""
	g := cfg.approval.groups.agents[username]
	is_array(g)
} else := g if {
	namespace != ""
	g := cfg.approval.groups.namespaces[namespace]
	is_array(g)
} else := g if {
	g := cfg.approval.groups.global
	is_array(g)
} else := ["belay:approvers"]

ttl := t if {
	t := cfg.approval.ttl
	is_string(t)
	t != ""
} else := "15m"

# A short description of who is observed, for warnings.
subject := concat("", ["workflow ", util.q(workflow)]) if workflow != ""

subject := concat("", ["agent ", util.q(username)]) if {
	workflow == ""
	username != ""
}

subject := "this agent" if {
	workflow == ""
	username == ""
}
