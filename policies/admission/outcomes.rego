# Outcomes (README "Outcomes"): a remedy belay proposed after a change failed
# (a rollback, or the object without the fix that broke it) carries the
# annotation belay.dev/remedy-for, naming the ApprovalRequest or Outcome it
# remedies. An agent applying it is deferred, so the ApprovalRequest belay
# proposed for it is what admits it: an approver decides, in one step.
# Only a remedy being applied now counts (the annotation added or changed):
# later changes to the same object, which keep the annotation, are judged as
# usual.
package belay.admission.outcomes

import rego.v1

import data.belay.lib.request as req

remedy_annotation := "belay.dev/remedy-for"

remedy_for := object.get(req.obj_or_empty, ["metadata", "annotations", remedy_annotation], "")

previous_remedy_for := object.get(req.old_or_empty, ["metadata", "annotations", remedy_annotation], "")

violations contains {
	"rule": "outcomes.remedy",
	"message": concat("", [
		"this ", req.subject, " is the remedy belay proposed after ", remedy_for,
		" failed; the ApprovalRequest belay made for it admits it once an approver approves it",
	]),
	"severity": "high",
	"action": "defer",
} if {
	req.agent
	req.operation in {"CREATE", "UPDATE"}
	is_string(remedy_for)
	remedy_for != ""
	remedy_for != previous_remedy_for
}
