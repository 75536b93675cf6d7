# belay's own objects: approvals, webhooks, its namespace.
package belay.admission.tamper_test

import rego.v1

import data.belay.test

cm := test.configmap

test_agents_never_touch_approvals if {
	ar := {"apiVersion": "belay.dev/v1alpha1", "kind": "ApprovalRequest", "metadata": {"name": "ar-1"}, "status": {"phase": "Approved"}}
	inp := object.union(test.update(ar, ar, "belay-system"), {"action": {"subresource": "status"}, "resource": {"resource": "approvalrequests"}})
	d := test.admit(inp)
	d.decision == "deny"
	"tamper.approval_request" in test.rules(d)
}

test_agents_never_touch_outcome_records if {
	rec := {"apiVersion": "belay.dev/v1alpha1", "kind": "Outcome", "metadata": {"name": "outcome-1"}, "status": {"result": "Succeeded"}}
	inp := object.union(test.update(rec, rec, "team-a"), {"resource": {"group": "belay.dev", "resource": "outcomes"}})
	d := test.admit(inp)
	d.decision == "deny"
	"tamper.outcome" in test.rules(d)
	other := object.union(inp, {"resource": {"group": "example.com"}})
	not "tamper.outcome" in test.rules(test.admit(other))
}

test_agents_never_touch_belay if {
	wh := {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "belay-validate"}}
	test.rules(test.admit(test.delete(wh, ""))) == {"tamper.webhook"}
	other := object.union(wh, {"metadata": {"name": "cert-manager"}})
	test.admit(test.delete(other, "")).decision == "allow"
	"tamper.belay_namespace" in test.rules(test.admit(test.admission("CREATE", cm, "belay-system")))
}
