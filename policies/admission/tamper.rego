# Belay's own objects: an agent never creates, changes or deletes approval
# requests (including their status - no self-approval), belay's webhook
# configurations, or anything in belay's namespace.
package belay.admission.tamper

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util

violations contains {
	"rule": "tamper.approval_request",
	"message": concat("", [
		"agents must not create, change or approve ApprovalRequests (", req.subject,
		"); an approver from the configured groups decides",
	]),
	"severity": "critical",
	"action": "deny",
} if {
	req.agent
	req.is_write
	req.kind == "ApprovalRequest"
}

violations contains {
	"rule": "tamper.outcome",
	"message": concat("", [
		"agents must not create, change or delete belay's Outcome records (", req.subject,
		"); belay records what became of a change",
	]),
	"severity": "critical",
	"action": "deny",
} if {
	req.agent
	req.is_write
	req.kind == "Outcome"
	req.group == "belay.dev"
}

violations contains {
	"rule": "tamper.webhook",
	"message": concat("", [
		"agents must not change belay's admission webhooks (", req.subject, "); ask a platform owner",
	]),
	"severity": "critical",
	"action": "deny",
} if {
	req.agent
	req.is_write
	req.kind in {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
	some p in cfg.tamper.webhookNamePrefixes
	startswith(req.name, p)
}

violations contains {
	"rule": "tamper.belay_namespace",
	"message": concat("", [
		"agents must not change objects in belay's namespace ", util.q(req.namespace),
		" (", req.subject, "); ask a platform owner",
	]),
	"severity": "critical",
	"action": "deny",
} if {
	req.agent
	req.is_write
	req.namespace in cfg.tamper.namespaces
}
