# Volumes: baseline hostPathVolumes and restricted restrictedVolumes.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.util

# hostPathVolumes
host_path_volumes := {util.first([object.get(vol, "name", ""), "(unnamed)"]) |
	some vol in spec.volumes
	object.get(vol, "hostPath", null) != null
}

violations contains violation(
	"pss.baseline.host_path_volumes", "hostPathVolumes", "baseline", "deny", "high",
	concat("", [
		util.plural(count(host_path_volumes), "volume ", "volumes "), util.qlist(host_path_volumes),
		" must not use hostPath; use a persistentVolumeClaim, emptyDir, configMap or secret volume instead",
	]),
	[],
) if {
	applies
	baseline_on
	count(host_path_volumes) > 0
}

# restrictedVolumes: an entry with no source at all is an implicit emptyDir.
bad_volumes := {[util.first([object.get(vol, "name", ""), "(unnamed)"]), k] |
	some vol in spec.volumes
	is_object(vol)
	some k, src in vol
	k != "name"
	src != null
	not k in cfg.podSecurity.restrictedVolumeTypes
}

violations contains violation(
	"pss.restricted.restricted_volumes", "restrictedVolumes", "restricted", "deny", "medium",
	concat("", [
		util.plural(count({x[0] | some x in bad_volumes}), "volume ", "volumes "), util.qlist({x[0] | some x in bad_volumes}),
		" must not use ", util.qlist({x[1] | some x in bad_volumes}),
		"; only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes are allowed, so use a persistentVolumeClaim",
	]),
	[],
) if {
	applies
	restricted_on
	count(bad_volumes) > 0
}
