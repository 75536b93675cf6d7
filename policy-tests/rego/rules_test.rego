package belay.rules_test

import rego.v1

import data.belay.test

deployment(ns, replicas) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns}, "spec": {"replicas": replicas}}

# --- destructive -------------------------------------------------------------------

test_delete_in_production_defers_and_names_what_is_lost if {
	d := test.admit(test.delete(deployment("prod-billing", 3), "prod-billing"))
	d.decision == "defer"
	d.reasons[0].rule == "destructive.delete_production"
	contains(d.reasons[0].message, "production namespace \"prod-billing\"")
	contains(d.reasons[0].message, "its 3 pods")
}

test_delete_elsewhere_is_allowed if {
	test.admit(test.delete(deployment("team-a", 3), "team-a")).decision == "allow"
}

test_delete_everywhere_when_configured if {
	d := test.admit(test.delete(deployment("team-a", 3), "team-a")) with data.belay.config.destructive.everywhere as true
	d.decision == "defer"
}

test_delete_kinds if {
	every k in ["StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PersistentVolumeClaim"] {
		obj := {"apiVersion": "v1", "kind": k, "metadata": {"name": "x"}}
		"destructive.delete_production" in test.rules(test.admit(test.delete(obj, "prod-a")))
	}
	not "destructive.delete_production" in test.rules(test.admit(test.delete({"kind": "ConfigMap", "metadata": {"name": "x"}}, "prod-a")))
}

test_pvc_message_names_the_storage if {
	pvc := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "50Gi"}}}}
	contains(test.admit(test.delete(pvc, "prod-a")).reasons[0].message, "the volume (50Gi) and its data")
}

test_only_bare_pods_are_destructive if {
	bare := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
	owned := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "controller": true}]}}
	"destructive.delete_production" in test.rules(test.admit(test.delete(bare, "prod-a")))
	test.admit(test.delete(owned, "prod-a")).decision == "allow"
}

test_deletecollection if {
	inp := object.union(test.delete({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ""}}, "prod-a"), {"action": {"verb": "deletecollection"}})
	d := test.admit(inp)
	contains(d.reasons[0].message, "deleting every Deployment in the collection")
}

test_delete_namespace_always_defers if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
	d := test.admit(test.delete(ns, ""))
	d.decision == "defer"
	test.rules(d) == {"destructive.delete_namespace"}
	contains(d.reasons[0].message, "deleting Namespace \"team-a\" would delete every object in it")
	contains(test.admit(test.delete(object.union(ns, {"metadata": {"name": "prod-a"}}), "")).reasons[0].message, "(production)")
}

test_delete_crd_always_defers if {
	crd := {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}}
	d := test.admit(test.delete(crd, ""))
	test.rules(d) == {"destructive.delete_crd"}
}

test_scale_to_zero_in_production if {
	d := test.admit(test.update(deployment("prod-a", 3), deployment("prod-a", 0), "prod-a"))
	d.decision == "defer"
	test.rules(d) == {"destructive.scale_to_zero"}
	contains(d.reasons[0].message, "(3 now)")
	test.admit(test.update(deployment("team-a", 3), deployment("team-a", 0), "team-a")).decision == "allow"
	test.admit(test.update(deployment("prod-a", 3), deployment("prod-a", 1), "prod-a")).decision == "allow"
	test.admit(test.update(deployment("prod-a", 0), deployment("prod-a", 0), "prod-a")).decision == "allow"
}

test_scale_to_zero_from_default_replicas if {
	old := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}}
	test.admit(test.update(old, deployment("prod-a", 0), "prod-a")).decision == "defer"
}

scale(n) := {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": n}}

test_scale_subresource_to_zero if {
	inp := {
		"actor": test.agent,
		"action": {"operation": "UPDATE", "verb": "update", "subresource": "scale"},
		"resource": {"group": "apps", "kind": "Scale", "resource": "deployments", "namespace": "prod-a", "name": "web"},
		"object": scale(0), "oldObject": scale(2),
	}
	d := test.admit(inp)
	test.rules(d) == {"destructive.scale_to_zero"}
	contains(d.reasons[0].message, "scaling Deployment \"web\"")
}

# --- interactive -------------------------------------------------------------------------

connect(sub, ns) := {
	"actor": test.agent,
	"action": {"operation": "CONNECT", "verb": "create", "subresource": sub},
	"resource": {"group": "", "kind": "PodExecOptions", "resource": "pods", "namespace": ns, "name": "web-1"},
	"object": {"kind": "PodExecOptions", "command": ["sh"]},
	"namespace": {"name": ns},
}

test_interactive_in_production_defers if {
	every sub in ["exec", "attach", "portforward"] {
		d := test.admit(connect(sub, "prod-a"))
		d.decision == "defer"
		test.rules(d) == {concat(".", ["interactive", sub])}
	}
}

test_interactive_elsewhere_is_allowed if {
	test.admit(connect("exec", "team-a")).decision == "allow"
	test.admit(connect("exec", "team-a")).decision == "defer" with data.belay.config.interactive.everywhere as true
	test.admit(connect("proxy", "prod-a")).decision == "allow"
	test.admit(test.as_actor(connect("exec", "prod-a"), test.human)).decision == "allow"
}

# --- agent context ------------------------------------------------------------------------

cm := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}

ctx_input(ctx) := test.with_context(test.admission("CREATE", cm, "team-a"), ctx)

test_context_low_confidence if {
	d := test.admit(ctx_input({"workflow": "wf", "confidence": 0.5, "remediationTarget": "ConfigMap/c"}))
	d.decision == "defer"
	test.rules(d) == {"context.low_confidence"}
	contains(d.reasons[0].message, "confidence 0.5, below the 0.8 threshold")
	contains(d.reasons[0].message, "from workflow \"wf\"")
}

test_context_threshold_from_data if {
	inp := ctx_input({"confidence": 0.85, "remediationTarget": "ConfigMap/c"})
	test.admit(inp).decision == "allow"
	test.admit(inp).decision == "defer" with data.belay.config.confidenceThreshold as 0.9
	test.admit(ctx_input({"confidence": 0.8, "remediationTarget": "ConfigMap/c"})).decision == "allow"
}

test_context_confidence_as_string_or_missing if {
	test.admit(ctx_input({"confidence": "0.95", "remediationTarget": "x"})).decision == "allow"
	test.admit(ctx_input({"confidence": "high", "remediationTarget": "x"})).decision == "defer"
	d := test.admit(ctx_input({"workflow": "wf", "remediationTarget": "x"}))
	contains(d.reasons[0].message, "confidence (missing)")
}

test_context_no_target if {
	d := test.admit(ctx_input({"workflow": "wf", "confidence": 0.99}))
	test.rules(d) == {"context.no_target"}
}

test_no_context_no_judgement if {
	test.admit(test.admission("CREATE", cm, "team-a")).decision == "allow"
	test.admit(ctx_input({"rationale": "just because", "cluster": "c"})).decision == "allow"
}

test_context_from_annotations if {
	obj := object.union(cm, {"metadata": {"annotations": {"belay.dev/workflow": "wf", "belay.dev/confidence": "0.3", "belay.dev/remediation-target": "ConfigMap/c"}}})
	test.rules(test.admit(test.admission("CREATE", obj, "team-a"))) == {"context.low_confidence"}
}

test_context_reads_are_not_judged if {
	inp := object.union(ctx_input({"confidence": 0.1}), {"face": "authorization", "action": {"operation": "GET", "verb": "get"}, "resource": {"resource": "configmaps", "kind": ""}, "object": null})
	d := data.belay.authorization.decision with input as inp
	d.decision == "allow"
}

# --- secrets and config maps -------------------------------------------------------------------

secret(type, ns) := {"apiVersion": "v1", "kind": "Secret", "type": type, "metadata": {"name": "s", "namespace": ns, "annotations": {"kubernetes.io/service-account.name": "deployer"}}, "data": {"token": "dG9rZW4="}}

test_service_account_token_secret_defers if {
	d := test.admit(test.admission("CREATE", secret("kubernetes.io/service-account-token", "team-a"), "team-a"))
	d.decision == "defer"
	test.rules(d) == {"secrets.service_account_token"}
	contains(d.reasons[0].message, "\"deployer\"")
	d.redact == ["/data/token"]
}

test_secret_writes_in_production_defer if {
	d := test.admit(test.admission("CREATE", secret("Opaque", "prod-a"), "prod-a"))
	test.rules(d) == {"secrets.production_write"}
	test.admit(test.admission("CREATE", secret("Opaque", "team-a"), "team-a")).decision == "allow"
	test.admit(test.admission("CREATE", secret("Opaque", "prod-a"), "prod-a")).decision == "allow" with data.belay.config.secrets.deferWritesInProduction as false
}

cm_with(d) := object.union(cm, {"data": d})

test_configmap_credentials_are_denied if {
	d := test.admit(test.admission("CREATE", cm_with({"DB_PASSWORD": "s3cr3t-Pa55word"}), "team-a"))
	d.decision == "deny"
	test.rules(d) == {"secrets.configmap_credentials"}
	contains(d.reasons[0].message, "\"DB_PASSWORD\"")
	"/data/DB_PASSWORD" in d.redact
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"client_secret": "9f8e7d6c5b4a3210"}), "team-a")))
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"apiKey": "AKIAABCDEFGHIJKLMNOP"}), "team-a")))
	"secrets.configmap_credentials" in test.rules(test.admit(test.admission("CREATE", cm_with({"app.conf": "url=https://x\ntoken: sha256~abcdefghijklmnopqrstuvwxyz0123456789"}), "team-a")))
}

test_configmap_without_credentials if {
	every data_ in [
		{"password-policy": "strict"},
		{"TOKEN_TTL": "${TOKEN_TTL_FROM_ENV}"},
		{"api_key_header": "X-Api-Key please"},
		{"tlsSecretName": "my-app-tls-secret"},
		{"PASSWORD_FILE": "/run/secrets/db-password"},
		{"DB_PASSWORD": "/run/secrets/db-password"},
		{"PASSWORD_AUTH": "disabled"},
		{"token-ttl": "86400seconds"},
		{"log-level": "debug", "replicas": "3"},
	] {
		test.admit(test.admission("CREATE", cm_with(data_), "team-a")).decision == "allow"
	}
}

# --- sensitive kinds ------------------------------------------------------------------------------

test_sensitive_kinds_in_production if {
	sts := {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}}
	d := test.admit(test.update(sts, sts, "prod-a"))
	test.rules(d) == {"sensitive.kind"}
	test.admit(test.update(sts, sts, "team-a")).decision == "allow"
}

test_cluster_wide_sensitive_kinds_always if {
	node := {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"unschedulable": true}}
	d := test.admit(test.update(node, node, ""))
	test.rules(d) == {"sensitive.kind"}
	contains(d.reasons[0].message, "changing Node \"n1\" cluster-wide affects every pod scheduled on it")
	"sensitive.kind" in test.rules(test.admit(test.delete(node, "")))
}

test_sensitive_deletes_left_to_destructive if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-a"}}
	not "sensitive.kind" in test.rules(test.admit(test.delete(ns, "")))
	"sensitive.kind" in test.rules(test.admit(test.admission("CREATE", ns, "")))
}

# --- tamper -----------------------------------------------------------------------------------------

test_agents_never_touch_approvals if {
	ar := {"apiVersion": "belay.dev/v1alpha1", "kind": "ApprovalRequest", "metadata": {"name": "ar-1"}, "status": {"phase": "Approved"}}
	inp := object.union(test.update(ar, ar, "belay-system"), {"action": {"subresource": "status"}, "resource": {"resource": "approvalrequests"}})
	d := test.admit(inp)
	d.decision == "deny"
	"tamper.approval_request" in test.rules(d)
}

test_agents_never_touch_belay if {
	wh := {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "belay-validate"}}
	test.rules(test.admit(test.delete(wh, ""))) == {"tamper.webhook"}
	other := object.union(wh, {"metadata": {"name": "cert-manager"}})
	test.admit(test.delete(other, "")).decision == "allow"
	"tamper.belay_namespace" in test.rules(test.admit(test.admission("CREATE", cm, "belay-system")))
}

test_subresource_without_resource_plural if {
	inp := {"actor": test.agent, "action": {"operation": "CONNECT", "subresource": "exec"}, "resource": {"kind": "PodExecOptions", "namespace": "prod-a", "name": "p"}}
	test.rules(test.admit(inp)) == {"interactive.exec"}
	scale_inp := {
		"actor": test.agent, "action": {"operation": "UPDATE", "subresource": "scale"},
		"resource": {"kind": "Scale", "namespace": "prod-a", "name": "web"},
		"object": scale(0), "oldObject": scale(2),
	}
	test.rules(test.admit(scale_inp)) == {"destructive.scale_to_zero"}
}
