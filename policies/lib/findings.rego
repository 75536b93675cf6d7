# The gateway's secret findings (src/scan), as the tool-result and prompt
# rules read them from input.content.findings: each {kind, rule, start, end,
# description, …} and never the secret itself. The gateway's scanner is
# broader than any pattern list policy could keep (lib/scan.rego is only the
# fallback for an input that did not come through the gateway), so policy
# reads its findings rather than detecting again.
package belay.lib.findings

import rego.v1

# What each finding kind is, for people.
kinds := {
	"cluster-token": "an OpenShift OAuth access token (sha256~…)",
	"service-account-token": "a Kubernetes service account token",
	"jwt": "a JSON Web Token",
	"bootstrap-token": "a Kubernetes bootstrap token",
	"private-key": "a PEM private key",
	"cloud-key": "a cloud provider key",
	"kubeconfig-credential": "a kubeconfig credential",
	"api-token": "an API token",
	"bearer-token": "a bearer token",
	"basic-auth": "a password in a URL",
	"connection-string": "a database connection string with a password",
	"password": "a password",
	"secret-value": "a secret value (under a credential-named key, or in a Secret's data)",
	"high-entropy": "a high-entropy string next to a secret-ish word",
}

# scanned(content) is true when the gateway scanned the content.
scanned(content) if is_array(content.findings)

# well_formed(fs) keeps the findings that name a kind.
well_formed(fs) := [f | some f in fs; is_object(f); is_string(f.kind)]

# describe(fs) names what was found, for people (an unknown kind as it is).
describe(fs) := concat(", ", sort({object.get(kinds, f.kind, f.kind) | some f in fs}))
