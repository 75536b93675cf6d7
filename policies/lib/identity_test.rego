# Who is an agent.
package belay.lib.identity_test

import rego.v1

import data.belay.lib.identity

test_agent_by_service_account_namespace if {
	identity.is_agent({"username": "system:serviceaccount:agents:bot"})
	identity.is_agent({"serviceAccount": {"namespace": "agents", "name": "bot"}})
	not identity.is_agent({"username": "system:serviceaccount:default:bot"})
}

test_agent_by_listed_service_account if {
	every entry in ["ci/deployer", "ci:deployer", "system:serviceaccount:ci:deployer"] {
		identity.is_agent({"username": "system:serviceaccount:ci:deployer"}) with data.belay.config.agents.serviceAccounts as [entry]
	}
	not identity.is_agent({"username": "system:serviceaccount:ci:other"}) with data.belay.config.agents.serviceAccounts as ["ci/deployer"]
}

test_agent_by_group_and_username if {
	identity.is_agent({"username": "bot@example.com", "groups": ["belay:agents"]})
	identity.is_agent({"username": "copilot"}) with data.belay.config.agents.usernames as ["copilot"]
	not identity.is_agent({"username": "alice", "groups": ["developers"]})
	not identity.is_agent({})
}

test_malformed_service_account_usernames_are_not_agents if {
	not identity.is_agent({"username": "system:serviceaccount:agents"})
	not identity.is_agent({"username": "system:serviceaccounts:agents:x"})
}
