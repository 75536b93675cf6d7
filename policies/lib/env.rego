# Production detection (case-insensitive, like the trust-ladder starter
# policy): a namespace label (key/values from data) where namespace labels
# are known, namespace name patterns that work without a cluster, and
# cluster names (agent context or tool target) or a cluster-wide flag.
package belay.lib.env

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util

production if namespace_production

production if cluster_production

namespace_production if is_production_namespace(req.namespace)

namespace_production if {
	some labels in req.namespace_label_sets
	production_labels(labels)
}

cluster_production if cfg.production.cluster == true

cluster_production if is_production_cluster(req.cluster)

# is_production_namespace(name) matches the name patterns only.
is_production_namespace(ns) if {
	is_string(ns)
	ns != ""
	util.name_matches(ns, cfg.production.namePrefixes, cfg.production.nameSuffixes, cfg.production.names)
}

is_production_cluster(name) if {
	is_string(name)
	name != ""
	util.name_matches(name, cfg.production.clusterNamePrefixes, cfg.production.clusterNameSuffixes, [])
}

# production_labels(labels) matches the production label, key and value
# compared case-insensitively.
production_labels(labels) if {
	some k, v in labels
	lower(k) == lower(cfg.production.labelKey)
	is_string(v)
	lower(v) in util.lower_set(cfg.production.labelValues)
}

# where is a phrase for messages: `production namespace "prod-billing"`,
# `namespace "web" in production cluster "prod-eu1"`, …
where := concat("", ["production namespace ", util.q(req.namespace), cluster_suffix]) if {
	namespace_production
	req.namespace != ""
} else := concat("", ["namespace ", util.q(req.namespace), " in production cluster", cluster_name_suffix]) if {
	cluster_production
	req.namespace != ""
} else := concat("", ["production cluster", cluster_name_suffix]) if {
	cluster_production
} else := "a production namespace" if {
	production
} else := concat("", ["namespace ", util.q(req.namespace), cluster_suffix]) if {
	req.namespace != ""
} else := concat("", ["the cluster", cluster_suffix])

cluster_suffix := concat("", [" (cluster ", util.q(req.cluster), ")"]) if req.cluster != ""

cluster_suffix := "" if req.cluster == ""

cluster_name_suffix := concat("", [" ", util.q(req.cluster)]) if req.cluster != ""

cluster_name_suffix := "" if req.cluster == ""
