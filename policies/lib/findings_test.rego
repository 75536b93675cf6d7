# The gateway's findings as policy reads them.
package belay.lib.findings_test

import rego.v1

import data.belay.lib.findings

test_every_kind_of_the_scanner_is_described if {
	# src/scan/findings.ts FINDING_KINDS, in order.
	scanner := [
		"cluster-token", "service-account-token", "jwt", "bootstrap-token", "private-key", "cloud-key",
		"kubeconfig-credential", "api-token", "bearer-token", "basic-auth", "connection-string",
		"password", "secret-value", "high-entropy",
	]
	every k in scanner {
		is_string(findings.kinds[k])
	}
	count(findings.kinds) == count(scanner)
}

test_describe_names_each_kind_once_and_unknown_kinds_as_they_are if {
	findings.describe([{"kind": "password"}, {"kind": "password"}, {"kind": "secret-value"}]) == "a password, a secret value (under a credential-named key, or in a Secret's data)"
	findings.describe([{"kind": "new-kind"}]) == "new-kind"
}

test_only_well_formed_findings_count if {
	findings.well_formed([5, {"kind": 7}, {"kind": "jwt"}, "x"]) == [{"kind": "jwt"}]
	findings.scanned({"findings": []})
	not findings.scanned({"text": "x"})
}
