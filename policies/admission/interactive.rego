# Interactive access by agents: CONNECT pods/exec, pods/attach and
# pods/portforward defer in production (everywhere when
# `interactive.everywhere` is true).
package belay.admission.interactive

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.env
import data.belay.lib.request as req
import data.belay.lib.util

in_scope if env.production

in_scope if cfg.interactive.everywhere == true

verbs := {"exec": "running commands in", "attach": "attaching to", "portforward": "port-forwarding to"}

violations contains {
	"rule": concat(".", ["interactive", req.subresource]),
	"message": concat("", [
		object.get(verbs, req.subresource, concat("", ["opening ", req.subresource, " to"])),
		" pod ", util.q(req.name), " in ", env.where,
		" gives the agent a live session outside policy; ask an approver, or use logs, events and read-only tools instead",
	]),
	"severity": "high",
	"action": "defer",
} if {
	req.agent
	req.operation == "CONNECT"
	req.kind == "Pod"
	req.subresource in cfg.interactive.subresources
	in_scope
}
