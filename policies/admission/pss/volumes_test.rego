# Pod Security: hostPathVolumes and restrictedVolumes.
package belay.admission.pss_test

import rego.v1

import data.belay.test

test_host_path_volumes if {
	spec := test.restricted_with({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]})
	"pss.baseline.host_path_volumes" in test.pss_rules(spec, b)
	test.pss_rules(test.restricted_with({"volumes": [{"name": "e", "emptyDir": {}}]}), r) == set()
}

test_restricted_volumes if {
	"pss.restricted.restricted_volumes" in test.pss_rules(restricted_volumes_vol({"name": "n", "nfs": {"server": "s", "path": "/"}}), r)
	"pss.restricted.restricted_volumes" in test.pss_rules(restricted_volumes_vol({"name": "g", "gitRepo": {"repository": "x"}}), r)
	test.pss_rules(restricted_volumes_vol({"name": "n", "nfs": {"server": "s", "path": "/"}}), b) == set()

	# No source at all: the API server defaults it to emptyDir before admission.
	test.pss_rules(restricted_volumes_vol({"name": "implicit-empty-dir"}), r) == set()

	# An allowed source makes the volume allowed at restricted, as upstream (whose
	# restrictedVolumes replaces hostPathVolumes there); baseline still refuses the hostPath.
	test.pss_rules(restricted_volumes_vol({"name": "both", "emptyDir": {}, "hostPath": {"path": "/"}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "both", "emptyDir": {}, "hostPath": {"path": "/"}}), b) == {"pss.baseline.host_path_volumes"}
	test.pss_rules(restricted_volumes_vol({"name": "image", "image": {"reference": "r"}}), r) == set()

	# Keys the Volume API does not have are not sources.
	test.pss_rules(restricted_volumes_vol({"name": "odd", "emptyDir": {}, "notASource": {}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "c", "csi": {"driver": "d"}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "e", "ephemeral": {"volumeClaimTemplate": {}}}), r) == set()
	test.pss_rules(restricted_volumes_vol({"name": "p", "projected": {"sources": []}}), r) == set()
}

restricted_volumes_vol(v) := test.restricted_with({"volumes": [v]})
