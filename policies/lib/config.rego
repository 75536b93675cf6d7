# Tunables. Every value the policy reads comes from data.belay.config
# (policies/data.json). The defaults below are the same document; they are
# merged under the data (data wins, objects merge key by key, arrays are
# replaced) so that a deployment that overrides only a few keys still gets a
# complete, fail-safe configuration. config_test.rego (beside this file) checks
# that data.json and these defaults never drift apart.
package belay.lib.config

import rego.v1

default raw := {}

raw := data.belay.config if is_object(data.belay.config)

# The configuration every rule reads. Merging `defaults` (a literal built on
# each evaluation) under the data cost a quarter of a small request's
# evaluation, so the gateway evaluates it once whenever it loads a bundle's
# data (lib/prepare.rego, src/policy/wasm.ts) and puts the result at
# data.belay_prepared.config; without it (opa test, opa eval) the merge
# happens here.
cfg := c if {
	c := data.belay_prepared.config
	is_object(c)
} else := merged

merged := object.union(defaults, raw)

defaults := {
	# Who is an agent. The gateway reads this key too (README).
	"agents": {
		"serviceAccountNamespaces": ["agents"],
		"serviceAccounts": [],
		"groups": ["belay:agents"],
		"usernames": [],
	},
	# How production is recognised: a namespace label (key and values are
	# compared case-insensitively) where namespace labels are known, and name
	# patterns that work without a cluster (lower-cased before matching).
	# Cluster names (agent context `cluster`, tool target `cluster`) use the
	# cluster patterns; `cluster: true` marks the cluster belay runs in as
	# production as a whole.
	"production": {
		"labelKey": "environment",
		"labelValues": ["production"],
		"namePrefixes": ["prod"],
		"nameSuffixes": ["-prod", "-production"],
		"names": [],
		"clusterNamePrefixes": ["prod"],
		"clusterNameSuffixes": ["-prod", "-production"],
		"cluster": false,
	},
	# Kinds whose writes need a human: in production, and - for the
	# cluster-wide ones - everywhere.
	"sensitiveKinds": [
		"Node", "StatefulSet", "Namespace", "PersistentVolume", "CustomResourceDefinition",
		"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
	],
	"clusterWideSensitiveKinds": [
		"Node", "PersistentVolume", "CustomResourceDefinition",
		"ClusterRole", "ClusterRoleBinding",
	],
	# Agent context (trust-ladder starter policy).
	"confidenceThreshold": 0.8,
	# Trust ladder: mode per scope, most specific wins
	# (workflow > agent > namespace > global). A workflow these settings
	# mention is trusted only for the identities `claimants` lists for it
	# ({"serviceAccounts": ["ns/name"], "users": [...], "groups": [...]}); a
	# claim by anyone else counts as an unknown workflow.
	"trust": {
		"global": "approve",
		"namespaces": {},
		"agents": {},
		"claimants": {},
		"workflows": {},
		"trusted": {
			"workflows": [],
			"agents": [],
			"namespaces": {},
		},
	},
	# Who may approve a deferred request (most specific scope wins) and for
	# how long an approval request lives.
	"approval": {
		"ttl": "15m",
		"groups": {
			"global": ["belay:approvers"],
			"namespaces": {},
			"agents": {},
			"workflows": {},
		},
	},
	# Authorization face: how long an approved read (a Secret get/list/watch)
	# stays allowed. Read by the gateway, which keeps the window.
	"authorization": {"readWindow": "5m"},
	# Pod Security Standards (v1.37).
	"podSecurity": {
		"default": "restricted",
		"namespaces": {},
		"honorNamespaceLabel": true,
		"labelKey": "pod-security.kubernetes.io/enforce",
		"relaxRunAsForUserNamespaces": true,
		"baselineCapabilities": [
			"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
			"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
		],
		"restrictedCapabilities": ["NET_BIND_SERVICE"],
		# The safe sysctls (v1.37) live in data.json only: kept out of the
		# compiled module, whose strings must not look like net.* built-ins.
		# Without data the list is empty, i.e. every sysctl is refused.
		"safeSysctls": [],
		"restrictedVolumeTypes": [
			"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
			"persistentVolumeClaim", "projected", "secret",
		],
		"seLinuxTypes": ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"],
	},
	# Fixes whose safety depends on the image (docs/images.md). runAsUser: a
	# UID above 0 that the runAsNonRoot fix may set when an image runs as
	# root, as a named user, or is unknown (each such fix warns that the
	# image must tolerate it); null: no opt-in, such a workload needs a person.
	"images": {"runAsUser": null},
	# Destructive operations.
	"destructive": {
		"kinds": [
			"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController",
			"Job", "CronJob", "Pod", "PersistentVolumeClaim", "Namespace",
			"CustomResourceDefinition",
		],
		"alwaysDeferKinds": ["Namespace", "CustomResourceDefinition"],
		"everywhere": false,
		"scalableKinds": ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"],
	},
	# Interactive access (CONNECT pods/<subresource>).
	"interactive": {
		"subresources": ["exec", "attach", "portforward"],
		"everywhere": false,
	},
	# Who is told about approval requests: read by the gateway's notifier
	# (src/notify/routing.ts), not by the rules. Channel names refer to the
	# gateway's --notify-config, which holds the URLs and credentials.
	"notifications": {
		"reminder": "50%",
		"routes": [
			{
				"description": "approvers hear of every request, and are reminded halfway to its deadline",
				"channels": ["approvers"],
			},
			{
				"description": "the agent's operator hears how its request was decided",
				"events": ["approved", "rejected", "expired"],
				"channels": ["requesters"],
			},
			{
				"description": "every event, for an audit trail or an event bus",
				"events": ["*"],
				"channels": ["audit"],
			},
		],
	},
	# RBAC privilege escalation.
	"rbac": {
		"privilegedRoles": ["cluster-admin", "admin", "edit"],
		"escalationVerbs": ["escalate", "bind", "impersonate"],
		"forbiddenSubjects": [
			{"kind": "User", "name": "system:anonymous"},
			{"kind": "Group", "name": "system:unauthenticated"},
		],
		"broadGroups": ["system:authenticated", "system:serviceaccounts"],
		"sensitiveResources": [
			"pods/exec", "pods/attach", "nodes/proxy", "serviceaccounts/token",
			"certificatesigningrequests/approval",
			"validatingwebhookconfigurations", "mutatingwebhookconfigurations",
		],
	},
	# Secrets: reads (authorization and tool-call faces) and writes.
	"secrets": {
		"readVerbs": ["get", "list", "watch"],
		"readAllowedNamespaces": [],
		"deferWritesInProduction": true,
		"configMapKeyWords": [
			"password", "passwd", "secret", "token", "apikey", "api_key", "api-key",
			"private_key", "private-key", "privatekey", "credential", "access_key",
			"access-key", "accesskey", "client_secret",
		],
		"configMapMinValueLength": 8,
		# Keys that name, point to or tune a credential rather than hold one
		# (tlsSecretName, PASSWORD_FILE, token-ttl, …), compared lower-cased.
		"configMapKeyIgnoreSuffixes": [
			"name", "ref", "file", "path", "dir", "policy", "ttl", "timeout",
			"expiry", "length", "enabled", "url", "endpoint", "mount", "header", "type",
		],
		"configMapIgnoreValues": ["enabled", "disabled", "required", "optional", "true", "false", "none", "null"],
	},
	# Credential patterns (RE2). `hint` is a cheap substring test done first.
	"secretPatterns": [
		{"id": "openshift_token", "hint": "sha256~", "pattern": `sha256~[A-Za-z0-9_-]{20,}`, "description": "an OpenShift OAuth access token (sha256~…)"},
		{"id": "jwt", "hint": "eyJ", "pattern": `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`, "description": "a JSON Web Token (e.g. a Kubernetes service account token)"},
		{"id": "private_key", "hint": "PRIVATE KEY", "pattern": `-----BEGIN [A-Z ]*PRIVATE KEY-----`, "description": "a PEM private key"},
		{"id": "aws_access_key", "hint": "A", "pattern": `\b(AKIA|ASIA|A3T[A-Z0-9])[A-Z0-9]{16}\b`, "description": "an AWS access key id"},
		{"id": "github_token", "hint": "_", "pattern": `\bgh[pousr]_[A-Za-z0-9]{36,}`, "description": "a GitHub token"},
		{"id": "slack_token", "hint": "xox", "pattern": `xox[abposr]-[A-Za-z0-9-]{10,}`, "description": "a Slack token"},
		{"id": "google_api_key", "hint": "AIza", "pattern": `AIza[0-9A-Za-z_-]{35}`, "description": "a Google API key"},
		{"id": "bearer_token", "hint": "earer", "pattern": `(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*`, "description": "a bearer token"},
		{"id": "password_assignment", "hint": "", "pattern": `(?i)(password|passwd|pwd|secret|api[_-]?key|access[_-]?key|token)\s*[:=]\s*["']?[^\s"']{8,}`, "description": "a password or key assignment"},
	],
	# Agent gate (MCP) tool calls. A tool's verb/kind/subresource say what it
	# does when the caller does not send `tool.target`.
	"toolcall": {
		"treatAllCallsAsAgent": true,
		"unknownTools": "defer",
		"deniedTools": [],
		"tools": {
			"configuration_view": {"verb": "get", "kind": "Config"},
			"events_list": {"verb": "list", "kind": "Event"},
			"helm_install": {"verb": "create", "kind": "HelmRelease"},
			"helm_list": {"verb": "list", "kind": "HelmRelease"},
			"helm_uninstall": {"verb": "delete", "kind": "HelmRelease"},
			"namespaces_list": {"verb": "list", "kind": "Namespace"},
			"nodes_log": {"verb": "get", "kind": "Node", "subresource": "log"},
			"nodes_stats_summary": {"verb": "get", "kind": "Node", "subresource": "stats"},
			"nodes_top": {"verb": "list", "kind": "Node"},
			"pods_delete": {"verb": "delete", "kind": "Pod"},
			"pods_exec": {"verb": "connect", "kind": "Pod", "subresource": "exec"},
			"pods_get": {"verb": "get", "kind": "Pod"},
			"pods_list": {"verb": "list", "kind": "Pod"},
			"pods_list_in_namespace": {"verb": "list", "kind": "Pod"},
			"pods_log": {"verb": "get", "kind": "Pod", "subresource": "log"},
			"pods_run": {"verb": "create", "kind": "Pod"},
			"pods_top": {"verb": "list", "kind": "Pod"},
			"projects_list": {"verb": "list", "kind": "Project"},
			"resources_create_or_update": {"verb": "create"},
			"resources_delete": {"verb": "delete"},
			"resources_get": {"verb": "get"},
			"resources_list": {"verb": "list"},
		},
	},
	# Belay's own objects: agents never touch them.
	"tamper": {
		"namespaces": ["belay-system"],
		"webhookNamePrefixes": ["belay"],
	},
	# Outcomes (README "Outcomes"): after belay admits an agent's change worth
	# watching, the gateway watches the target for `window` and records
	# Succeeded, Failed or Unknown. A rollout succeeds once it stays complete
	# and healthy for `settle`; a new pod running but not Ready for
	# `notReadyAfter`, or one container restarted `restartLimit` times, fails
	# it. Agent writes to `watchKinds` are watched even without an approval,
	# a fix or an automate pass. `breaker`: a scope graduated to automate whose
	# automated changes fail `consecutiveFailures` times in a row is demoted to
	# approve until a trip id is listed in `acknowledged`. `graduation`: the
	# trust report promotes to automate only after `minSucceeded` Succeeded
	# outcomes and none Failed within `window`.
	"outcomes": {
		"enabled": true,
		"window": "5m",
		"settle": "30s",
		"notReadyAfter": "2m",
		"restartLimit": 3,
		"watchKinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod"],
		"breaker": {"consecutiveFailures": 3, "acknowledged": []},
		"graduation": {"minSucceeded": 5, "window": "720h"},
	},
	# Per-rule action override: {"<rule id>": {"action": "deny|defer|fix|warn|watch|off"}}.
	"rules": {},
}
