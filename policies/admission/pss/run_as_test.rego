# Pod Security: runAsNonRoot and runAsUser.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_run_as_non_root_fix_when_nothing_asks_for_root if {
	spec := test.restricted_with({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
	patched_clean(spec)
}

test_run_as_non_root_with_non_root_uid_is_still_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
}

test_run_as_non_root_on_every_container_passes if {
	c := test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}})
	spec := {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [c]}
	test.pss_rules(spec, r) == set()
}

test_run_as_non_root_false_is_denied if {
	pod_false := test.restricted_with({"securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(pod_false, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_non_root"}
	ctr_false := test.restricted_with({"initContainers": [test.container_with({"name": "i", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false}})]})
	test.pss(ctr_false, r).decision == "deny"
}

test_run_as_root_user_is_denied_not_fixed if {
	spec := test.restricted_with({"securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "deny"
	test.rules(d) == {"pss.restricted.run_as_user", "pss.restricted.run_as_non_root"}
	d.fixes == []
}

test_run_as_user if {
	ctr_root := test.restricted_with({"containers": [test.container_with({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 0}})]})
	"pss.restricted.run_as_user" in test.pss_rules(ctr_root, r)
	test.pss_rules(test.restricted_with({"securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}), r) == set()
	test.pss_rules(ctr_root, b) == set()
}

# Upstream relaxes runAsNonRoot and runAsUser for user-namespace pods from
# v1.35 unconditionally; the tunable (on by default) can still turn it off.
test_user_namespace_relaxation_is_on_by_default if {
	spec := test.restricted_with({"hostUsers": false, "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := test.pss(spec, r)
	d.decision == "allow"
	d.reasons == []
	test.pss(spec, r).decision == "deny" with data.belay.config.podSecurity.relaxRunAsForUserNamespaces as false
}

test_windows_pods_still_need_run_as_non_root if {
	spec := {"os": {"name": "windows"}, "containers": [{"name": "c", "image": "i"}]}
	d := test.pss(spec, r)
	d.fixes == [{"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}}]
}

# --- image-aware runAsNonRoot: the decision table (docs/images.md) -------------

root_image := {"known": true, "user": "", "uid": 0, "named": false, "nonRoot": false}

root_zero_image := {"known": true, "user": "0", "uid": 0, "named": false, "nonRoot": false}

numeric_image := {"known": true, "user": "65532", "uid": 65532, "named": false, "nonRoot": true}

named_image := {"known": true, "user": "nginx", "uid": null, "named": true, "nonRoot": false}

invalid_image := {"known": true, "user": "-1", "uid": -1, "named": false, "nonRoot": false}

unknown_image := {"known": false, "reason": "cannot reach registry.example: ENOTFOUND"}

# A restricted pod whose only gap is runAsNonRoot, running `image` in container "web".
rnr_spec(image) := {
	"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [test.container_with({"name": "web", "image": image})],
}

# The decision for `spec` at restricted with exactly these image facts (null: none at all).
with_images(spec, facts) := test.admit(object.union(object.remove(restricted_input(spec), ["images"]), {"images": facts})) if facts != null

with_images(spec, null) := test.admit(object.remove(restricted_input(spec), ["images"]))

restricted_input(spec) := test.labelled(test.admission("CREATE", test.pod(spec), "team-a"), {"pod-security.kubernetes.io/enforce": r})

remedy := "use an image whose Dockerfile sets a numeric non-root USER (e.g. USER 65532), or set securityContext.runAsUser to a non-zero UID the image can run as"

# The Pod's message for a table row that needs a person.
human_message(detail) := concat("", ["Pod \"p\": ", detail, "; ", remedy, " (Pod Security \"restricted\" check runAsNonRoot)"])

test_numeric_non_root_image_is_fixed if {
	d := with_images(rnr_spec("app:1"), {"app:1": numeric_image})
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
	test.rules(d) == {"pss.restricted.run_as_non_root"}
	d2 := with_images(json.patch(test.pod(rnr_spec("app:1")), d.fixes).spec, {"app:1": numeric_image})
	d2.decision == "allow"
	d2.reasons == []
}

test_root_image_is_deferred_with_why_and_what_to_do if {
	d := with_images(rnr_spec("nginx:1.27"), {"nginx:1.27": root_image})
	d.decision == "defer"
	d.fixes == []
	test.rules(d) == {"images.run_as_non_root"}
	d.reasons[0].message == human_message("image nginx:1.27 runs as root (its config sets no User, so root), so runAsNonRoot: true would stop container \"web\" (image nginx:1.27) from starting")
	d.approval.groups != []
}

test_user_zero_image_is_root if {
	d := with_images(rnr_spec("x:1"), {"x:1": root_zero_image})
	d.decision == "defer"
	contains(d.reasons[0].message, "runs as root (its config sets User \"0\")")
}

test_named_user_image_is_deferred if {
	d := with_images(rnr_spec("x:1"), {"x:1": named_image})
	d.decision == "defer"
	test.rules(d) == {"images.run_as_non_root"}
	d.reasons[0].message == human_message("image x:1 runs as user \"nginx\", a name the kubelet cannot verify as non-root, so runAsNonRoot: true would stop container \"web\" (image x:1) from starting")
}

test_negative_uid_image_is_not_trusted if {
	d := with_images(rnr_spec("x:1"), {"x:1": invalid_image})
	d.decision == "defer"
	contains(d.reasons[0].message, "runs as user \"-1\", which is not a valid UID")
}

test_unknown_image_is_deferred_with_the_reason if {
	d := with_images(rnr_spec("registry.example/x:1"), {"registry.example/x:1": unknown_image})
	d.decision == "defer"
	d.reasons[0].message == human_message("belay could not read the user of image registry.example/x:1 (cannot reach registry.example: ENOTFOUND), so it cannot tell whether runAsNonRoot: true would let container \"web\" (image registry.example/x:1) start")
}

test_no_facts_at_all_is_unknown if {
	d := with_images(rnr_spec("x:1"), null)
	d.decision == "defer"
	test.rules(d) == {"images.run_as_non_root"}
	contains(d.reasons[0].message, "could not read the user of image x:1 (no registry was asked about it)")
}

test_a_non_zero_run_as_user_makes_any_image_safe if {
	pod_uid := object.union(rnr_spec("x:1"), {"securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}})
	d := with_images(pod_uid, {"x:1": root_image})
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true}]
	ctr_uid := {
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [test.container_with({"name": "web", "image": "x:1", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 1000}})],
	}
	with_images(ctr_uid, {"x:1": unknown_image}).decision == "allow"
}

test_only_the_containers_that_would_not_start_are_named if {
	spec := {
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"initContainers": [test.container_with({"name": "init", "image": "app:1"})],
		"containers": [test.container_with({"name": "web", "image": "app:1"}), test.container_with({"name": "cache", "image": "redis:7"})],
	}
	d := with_images(spec, {"app:1": numeric_image, "redis:7": root_image})
	d.decision == "defer"
	[x.message | some x in d.reasons; x.rule == "images.run_as_non_root"] == [human_message("image redis:7 runs as root (its config sets no User, so root), so runAsNonRoot: true would stop container \"cache\" (image redis:7) from starting")]
}

test_a_container_that_sets_run_as_non_root_itself_is_not_judged if {
	own := test.container_with({"name": "web", "image": "x:1", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}})
	spec := {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [own]}
	d := with_images(spec, {"x:1": root_image})
	d.decision == "allow"
	d.reasons == []
}

test_opt_in_uid_fixes_with_run_as_user_and_a_warning if {
	d := with_images(rnr_spec("nginx:1.27"), {"nginx:1.27": root_image}) with data.belay.config.images.runAsUser as 1000
	d.decision == "allow"
	d.fixes == [
		{"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true},
		{"op": "add", "path": "/spec/securityContext/runAsUser", "value": 1000},
	]
	test.rules(d) == {"pss.restricted.run_as_non_root", "images.run_as_user"}
	some w in d.warnings
	w == "belay warning: Pod \"p\": belay set runAsUser: 1000 with runAsNonRoot on container \"web\" (image nginx:1.27) (policy opt-in): the image must be able to run as UID 1000 (files it writes, ports below 1024) (Pod Security \"restricted\" check runAsNonRoot) (images.run_as_user)"
	fixed := json.patch(test.pod(rnr_spec("nginx:1.27")), d.fixes)
	d2 := with_images(fixed.spec, {"nginx:1.27": root_image}) with data.belay.config.images.runAsUser as 1000
	d2.decision == "allow"
	d2.reasons == []
}

test_opt_in_uid_on_a_bare_pod_adds_one_security_context if {
	spec := {"containers": [{"name": "web", "image": "x:1"}]}
	d := with_images(spec, {"x:1": unknown_image}) with data.belay.config.images.runAsUser as 1000
	d.decision == "allow"
	some f in d.fixes
	f == {"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}}
}

test_opt_in_uid_must_be_a_positive_whole_number if {
	every bad in [0, -1, 1.5, "1000", null] {
		d := with_images(rnr_spec("x:1"), {"x:1": root_image}) with data.belay.config.images.runAsUser as bad
		d.decision == "defer"
	}
}

test_opt_in_uid_does_not_reach_a_container_with_its_own_run_as_user if {
	odd := test.container_with({"name": "web", "image": "x:1", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": -5}})
	spec := {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [odd]}
	d := with_images(spec, {"x:1": root_image}) with data.belay.config.images.runAsUser as 1000
	d.decision == "defer"
	contains(d.reasons[0].message, "container \"web\" (image x:1) sets runAsUser: -5, so runAsNonRoot: true would stop it from starting")
}

test_the_image_rule_can_be_overridden_like_any_rule if {
	d := with_images(rnr_spec("x:1"), {"x:1": root_image}) with data.belay.config.rules as {"images.run_as_non_root": {"action": "deny"}}
	d.decision == "deny"
	test.rules(d) == {"images.run_as_non_root"}
}

test_overriding_run_as_non_root_turns_the_image_rules_off_too if {
	d := with_images(rnr_spec("x:1"), {"x:1": root_image}) with data.belay.config.rules as {"pss.restricted.run_as_non_root": {"action": "warn"}}
	d.decision == "allow"
	d.fixes == []
	test.rules(d) == {"pss.restricted.run_as_non_root"}
	off := with_images(rnr_spec("x:1"), {"x:1": root_image}) with data.belay.config.rules as {"pss.restricted.run_as_non_root": {"action": "off"}}
	off.reasons == []
}

test_a_seccomp_fix_never_brings_run_as_non_root_along_for_an_unsafe_image if {
	spec := {"containers": [test.container_with({"name": "web", "image": "x:1"})]}
	d := with_images(spec, {"x:1": root_image}) with data.belay.config.rules as {"pss.restricted.run_as_non_root": {"action": "warn"}}
	d.decision == "allow"
	d.fixes == [{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}}]
}

test_baseline_never_asks_about_images if {
	inp := test.labelled(test.admission("CREATE", test.pod({"containers": [{"name": "c", "image": "x:1"}]}), "team-a"), {"pod-security.kubernetes.io/enforce": b})
	d := test.admit(object.union(object.remove(inp, ["images"]), {"images": {"x:1": root_image}}))
	d.decision == "allow"
	d.reasons == []
}
