# Secrets and ConfigMaps written by agents.
package belay.admission.secrets_test

import rego.v1

import data.belay.test

cm := test.configmap

secret(type, ns) := {"apiVersion": "v1", "kind": "Secret", "type": type, "metadata": {"name": "s", "namespace": ns, "annotations": {"kubernetes.io/service-account.name": "deployer"}}, "data": {"token": "dG9rZW4="}}

test_service_account_token_secret_defers if {
	d := test.admit(test.admission("CREATE", secret("kubernetes.io/service-account-token", "team-a"), "team-a"))
	d.decision == "defer"
	test.rules(d) == {"secrets.service_account_token"}
	contains(d.reasons[0].message, "\"deployer\"")
	d.redact == ["/data/token"]
}

test_secret_writes_in_production_defer if {
	d := test.admit(test.admission("CREATE", secret("Opaque", "prod-a"), "prod-a"))
	test.rules(d) == {"secrets.production_write"}
	test.admit(test.admission("CREATE", secret("Opaque", "team-a"), "team-a")).decision == "allow"
	test.admit(test.admission("CREATE", secret("Opaque", "prod-a"), "prod-a")).decision == "allow" with data.belay.config.secrets.deferWritesInProduction as false
}

cm_with(d) := object.union(cm, {"data": d})

test_configmap_credentials_are_denied if {
	d := test.admit(test.admission("CREATE", cm_with({"DB_PASSWORD": "s3cr3t-Pa55word"}), "team-a"))
	d.decision == "deny"
	test.rules(d) == {"secrets.configmap_credentials"}
	contains(d.reasons[0].message, "\"DB_PASSWORD\"")
	"/data/DB_PASSWORD" in d.redact
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"client_secret": "9f8e7d6c5b4a3210"}), "team-a")))
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"apiKey": "AKIAABCDEFGHIJKLMNOP"}), "team-a")))
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"app.conf": "url=https://x\ntoken: sha256~abcdefghijklmnopqrstuvwxyz0123456789"}), "team-a")))
}

test_configmap_without_credentials if {
	every data_ in [
		{"password-policy": "strict"},
		{"TOKEN_TTL": "${TOKEN_TTL_FROM_ENV}"},
		{"api_key_header": "X-Api-Key please"},
		{"tlsSecretName": "my-app-tls-secret"},
		{"PASSWORD_FILE": "/run/secrets/db-password"},
		{"DB_PASSWORD": "/run/secrets/db-password"},
		{"PASSWORD_AUTH": "disabled"},
		{"token-ttl": "86400seconds"},
		{"log-level": "debug", "replicas": "3"},
	] {
		test.admit(test.admission("CREATE", cm_with(data_), "team-a")).decision == "allow"
	}
}
