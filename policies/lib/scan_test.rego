# Credential patterns.
package belay.lib.scan_test

import rego.v1

import data.belay.lib.scan

test_scan_patterns if {
	scan.findings("token sha256~abcdefghijklmnopqrstuvwxyz012345") == {"openshift_token"}
	"jwt" in scan.findings("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXZhbHVl")
	scan.findings("-----BEGIN RSA PRIVATE KEY-----\nMIIE") == {"private_key"}
	scan.findings("AKIAABCDEFGHIJKLMNOP") == {"aws_access_key"}
	scan.findings("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == {"github_token"}
	scan.findings("xoxb-123456789012-abc") == {"slack_token"}
	"password_assignment" in scan.findings("DB_PASSWORD=hunter2hunter2")
	scan.findings("the pod restarted 3 times, see kubectl describe") == set()
	scan.findings(42) == set()
}
