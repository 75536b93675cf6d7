# Tool calls from MCP hosts and agent frameworks (agent gate). A tool call is
# normalised into the same request the admission and authorization rules
# judge (lib/request.rego), so deleting, exec-ing, binding or reading Secrets
# through a tool gets the same answer as through the API server. On top:
# unknown tools fail closed (defer by default), denied tools are denied, and
# credentials in a call's arguments defer: the gateway scans the arguments
# (src/scan) and hands policy its findings (input.tool.findings); an input
# that did not come through the gateway falls back to lib/scan.rego.
package belay.toolcall.rules

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.findings as gateway
import data.belay.lib.request as req
import data.belay.lib.scan
import data.belay.lib.util

# Unknown: not in the tool list, and the caller did not say what it does.
unknown if {
	not req.tool_known
	object.get(req.target, "verb", "") == ""
}

violations contains {
	"rule": "toolcall.unknown_tool",
	"message": concat("", [
		"tool ", util.q(req.tool_name), " is not in belay's tool list, so belay cannot tell what it changes; ",
		"ask an approver, or add the tool to data.belay.config.toolcall.tools",
	]),
	"severity": "medium",
	"action": unknown_action,
} if {
	req.is_toolcall
	unknown
	unknown_action != "off"
}

unknown_action := a if {
	a := cfg.toolcall.unknownTools
	a in {"deny", "defer", "warn", "off"}
} else := "defer"

violations contains {
	"rule": "toolcall.denied_tool",
	"message": concat("", ["tool ", util.q(req.tool_name), " is not allowed for agents; use another tool or ask a platform owner"]),
	"severity": "high",
	"action": "deny",
} if {
	req.is_toolcall
	req.tool_name in cfg.toolcall.deniedTools
}

scanned if gateway.scanned(input.tool)

argument_findings := gateway.well_formed(input.tool.findings) if scanned

violations contains {
	"rule": "toolcall.secret_in_arguments",
	"message": concat("", [
		"the arguments of tool ", util.q(req.tool_name), " contain ", gateway.describe(argument_findings),
		"; check that the agent should be handling this credential, and pass a reference instead",
	]),
	"severity": "high",
	"action": "defer",
	"redact": sort({concat("", ["/arguments", f.pointer]) | some f in argument_findings; is_string(f.pointer)}),
} if {
	req.is_toolcall
	count(argument_findings) > 0
}

argument_leaks := scan.leaks(req.args) if not scanned

violations contains {
	"rule": "toolcall.secret_in_arguments",
	"message": concat("", [
		"the arguments of tool ", util.q(req.tool_name), " contain ",
		scan.describe({id | some l in argument_leaks; some id in l[1]}),
		"; check that the agent should be handling this credential, and pass a reference instead",
	]),
	"severity": "high",
	"action": "defer",
	"redact": sort({util.pointer(array.concat(["arguments"], l[0])) | some l in argument_leaks}),
} if {
	req.is_toolcall
	count(argument_leaks) > 0
}
