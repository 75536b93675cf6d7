# Agent context (the trust-ladder starter policy): a mutating request that
# carries agent context - a workflow, a confidence or a remediation target -
# defers when its confidence is below `confidenceThreshold` (or missing or
# not a number) or when it names no remediation target. Requests without any
# agent context are not judged here (otherwise every plain agent write would
# defer); the other rules still apply to them.
package belay.admission.context

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.request as req
import data.belay.lib.util

present if {
	some k in ["workflow", "confidence", "remediationTarget"]
	object.get(req.context, k, null) != null
}

confidence := c if {
	c := req.context.confidence
	is_number(c)
} else := c if {
	is_string(req.context.confidence)
	c := to_number(trim_space(req.context.confidence))
}

judged if {
	req.agent
	req.is_write
	present
}

workflow_text := concat("", [" from workflow ", util.q(req.workflow)]) if req.workflow != ""

workflow_text := "" if req.workflow == ""

violations contains {
	"rule": "context.low_confidence",
	"message": concat("", [
		"this request", workflow_text, " has confidence ", confidence_text,
		", below the ", format_number(cfg.confidenceThreshold), " threshold for acting without review; ",
		"ask an approver, or gather more evidence before retrying",
	]),
	"severity": "medium",
	"action": "defer",
} if {
	judged
	not confident
}

confident if confidence >= cfg.confidenceThreshold

confidence_text := format_number(confidence)

default confidence_text := "(missing)"

format_number(n) := json.marshal(n) if is_number(n)

violations contains {
	"rule": "context.no_target",
	"message": concat("", [
		"this request", workflow_text, " names no remediation target; ",
		"set belay.dev/remediation-target (e.g. Deployment/web) so an approver can see what it acts on",
	]),
	"severity": "medium",
	"action": "defer",
} if {
	judged
	util.first([object.get(req.context, "remediationTarget", "")]) == ""
}
