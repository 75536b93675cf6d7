# Secrets written by agents, and plain-text credentials in ConfigMaps.
package belay.admission.secrets

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.env
import data.belay.lib.request as req
import data.belay.lib.scan
import data.belay.lib.util

writing if {
	req.agent
	req.operation in {"CREATE", "UPDATE"}
}

secret_type := object.get(req.obj_or_empty, "type", "")

# A service-account token Secret mints a non-expiring credential for any
# service account in the namespace.
violations contains {
	"rule": "secrets.service_account_token",
	"message": concat("", [
		req.subject, " is a long-lived token for service account ",
		util.q(object.get(req.obj_or_empty, ["metadata", "annotations", "kubernetes.io/service-account.name"], "?")),
		"; ask an approver, or use a short-lived token from the TokenRequest API (kubectl create token) instead",
	]),
	"severity": "high",
	"action": "defer",
	"redact": secret_redactions,
} if {
	writing
	req.kind == "Secret"
	secret_type == "kubernetes.io/service-account-token"
}

violations contains {
	"rule": "secrets.production_write",
	"message": concat("", [
		"writing ", req.subject, " in ", env.where,
		" changes credentials that running workloads depend on; ask an approver",
	]),
	"severity": "medium",
	"action": "defer",
	"redact": secret_redactions,
} if {
	writing
	req.kind == "Secret"
	cfg.secrets.deferWritesInProduction == true
	env.production
	secret_type != "kubernetes.io/service-account-token"
}

# Secret values never belong in an audit record or a reviewer's screen.
secret_redactions := sort({p |
	req.kind == "Secret"
	some field in ["data", "stringData"]
	some key, _ in object.get(req.obj_or_empty, field, {})
	p := concat("/", ["", field, util.ptr_escape(key)])
})

# --- ConfigMaps -------------------------------------------------------------------

credential_key(k) if {
	lk := lower(k)
	some w in cfg.secrets.configMapKeyWords
	contains(lk, w)
	not ignored_key(lk)
}

ignored_key(lk) if {
	some suffix in cfg.secrets.configMapKeyIgnoreSuffixes
	endswith(lk, suffix)
}

credential_entries contains key if {
	some field in ["data", "binaryData"]
	some key, value in object.get(req.obj_or_empty, field, {})
	is_string(value)
	credential_key(key)
	looks_like_value(value)
}

credential_entries contains key if {
	some key, value in object.get(req.obj_or_empty, "data", {})
	is_string(value)
	count(scan.findings(value)) > 0
}

# A value, not a reference or a placeholder: long enough, a single token.
looks_like_value(v) if {
	t := trim_space(v)
	count(t) >= cfg.secrets.configMapMinValueLength
	not contains(t, " ")
	not contains(t, "\n")
	not startswith(t, "$")
	not startswith(t, "/")
	not lower(t) in {lower(x) | some x in cfg.secrets.configMapIgnoreValues}
}

violations contains {
	"rule": "secrets.configmap_credentials",
	"message": concat("", [
		req.subject, " holds what looks like plain-text credentials in ",
		util.plural(count(credential_entries), "key ", "keys "), util.qlist(credential_entries),
		"; put them in a Secret and reference it (secretKeyRef or a secret volume) instead",
	]),
	"severity": "high",
	"action": "deny",
	"redact": sort({concat("/", ["", "data", util.ptr_escape(k)]) | some k in credential_entries}),
} if {
	writing
	req.kind == "ConfigMap"
	count(credential_entries) > 0
}
