# Production detection and the "where" phrase.
package belay.lib.env_test

import rego.v1

import data.belay.lib.env

prod(ns) if env.production with input as {"resource": {"namespace": ns}}

test_production_by_name if {
	prod("prod")
	prod("prod-billing")
	prod("PROD-billing")
	prod("billing-prod")
	prod("billing-Production")
	not prod("billing")
	not prod("preprod-billing")
	not prod("")
}

test_production_by_label_case_insensitive if {
	env.production with input as {"resource": {"namespace": "billing"}, "namespace": {"name": "billing", "labels": {"Environment": "PRODUCTION"}}}
	not env.production with input as {"resource": {"namespace": "billing"}, "namespace": {"name": "billing", "labels": {"environment": "staging"}}}
}

test_production_label_key_and_values_from_data if {
	inp := {"resource": {"namespace": "billing"}, "namespace": {"labels": {"tier": "live"}}}
	env.production with input as inp
		with data.belay.config.production.labelKey as "tier"
		with data.belay.config.production.labelValues as ["live"]
}

test_namespace_object_uses_its_own_name_and_labels if {
	env.production with input as {"resource": {"kind": "Namespace", "name": "prod-x"}}
	env.production with input as {"resource": {"kind": "Namespace"}, "object": {"kind": "Namespace", "metadata": {"name": "x", "labels": {"environment": "production"}}}}
	not env.production with input as {"resource": {"kind": "Namespace", "name": "team-x"}}
}

test_production_by_cluster if {
	env.production with input as {"resource": {"namespace": "web"}, "context": {"cluster": "prod-billing"}}
	env.production with input as {"tool": {"name": "x", "target": {"namespace": "web", "cluster": "eu1-production"}}}
	env.production with input as {"resource": {"namespace": "web"}} with data.belay.config.production.cluster as true
	not env.production with input as {"resource": {"namespace": "web"}, "context": {"cluster": "staging-eu1"}}
}

test_where_phrases if {
	env.where == "production namespace \"prod-a\"" with input as {"resource": {"namespace": "prod-a"}}
	env.where == "namespace \"web\" in production cluster \"prod-eu\"" with input as {"resource": {"namespace": "web"}, "context": {"cluster": "prod-eu"}}
	env.where == "production cluster \"prod-eu\"" with input as {"context": {"cluster": "prod-eu"}}
	env.where == "namespace \"web\"" with input as {"resource": {"namespace": "web"}}
	env.where == "the cluster" with input as {}
}
