# Who is an agent: the same computation the gateway does from
# data.belay.config.agents, so that faces whose actor is given by the caller
# (tool call, tool result, prompt) agree with admission and authorization.
package belay.lib.identity

import rego.v1

import data.belay.lib.config.cfg

# is_agent(actor) is true when the actor matches any configured agent identity:
# a service account in one of `serviceAccountNamespaces`, a service account
# listed in `serviceAccounts` ("ns/name", "ns:name" or the full
# "system:serviceaccount:ns:name" username), a member of one of `groups`, or a
# username listed in `usernames`.
is_agent(actor) if {
	sa := service_account(actor)
	sa.namespace in cfg.agents.serviceAccountNamespaces
}

is_agent(actor) if {
	sa := service_account(actor)
	some entry in cfg.agents.serviceAccounts
	entry in sa_refs(sa)
}

is_agent(actor) if {
	some g in actor.groups
	g in cfg.agents.groups
}

is_agent(actor) if {
	is_string(actor.username)
	actor.username != ""
	actor.username in cfg.agents.usernames
}

# service_account(actor) is {namespace, name} for a service account actor:
# from `actor.serviceAccount` when the gateway filled it in, else parsed from
# the "system:serviceaccount:<ns>:<name>" username.
service_account(actor) := sa if {
	sa := {"namespace": actor.serviceAccount.namespace, "name": actor.serviceAccount.name}
	is_string(sa.namespace)
	is_string(sa.name)
} else := {"namespace": parts[2], "name": parts[3]} if {
	is_string(actor.username)
	parts := split(actor.username, ":")
	count(parts) == 4
	parts[0] == "system"
	parts[1] == "serviceaccount"
}

sa_refs(sa) := {
	concat("/", [sa.namespace, sa.name]),
	concat(":", [sa.namespace, sa.name]),
	concat(":", ["system:serviceaccount", sa.namespace, sa.name]),
}

# display(actor) is a short name for messages.
display(actor) := actor.username if {
	is_string(actor.username)
	actor.username != ""
} else := "the agent"
