# Volumes: baseline hostPathVolumes and restricted restrictedVolumes.
package belay.admission.pss

import rego.v1

import data.belay.lib.config.cfg
import data.belay.lib.util

# hostPathVolumes
# At restricted, upstream's restrictedVolumes takes the place of hostPathVolumes
# (OverrideCheckIDs): a volume that also sets an allowed source passes there.
host_path_volumes := {util.first([object.get(vol, "name", ""), "(unnamed)"]) |
	some vol in spec.volumes
	object.get(vol, "hostPath", null) != null
	not overridden_by_restricted_volumes(vol)
}

overridden_by_restricted_volumes(vol) if {
	restricted_on
	allowed_volume_source(vol)
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

# restrictedVolumes, as upstream: a volume is allowed when one of the allowed
# sources is set (whatever else it sets); otherwise it is reported under the
# first restricted source it sets, or "unknown". An entry with no source at
# all is an implicit emptyDir: the API server defaults it so before admission
# (the differential gives the oracle the defaulted pod too).
restricted_volume_sources := [
	"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
	"flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
	"photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
]

bad_volumes := {[util.first([object.get(vol, "name", ""), "(unnamed)"]), volume_type(vol)] |
	some vol in spec.volumes
	is_object(vol)
	not allowed_volume_source(vol)
	has_volume_source(vol)
}

# Any key besides the name: a source of the Volume API, or one it does not know (upstream's "unknown").
has_volume_source(vol) if {
	some k, src in vol
	k != "name"
	src != null
}

allowed_volume_source(vol) if {
	some k in cfg.podSecurity.restrictedVolumeTypes
	object.get(vol, k, null) != null
}

volume_type(vol) := k if {
	some i, k in restricted_volume_sources
	object.get(vol, k, null) != null
	not earlier_source(vol, i)
} else := "unknown"

earlier_source(vol, i) if {
	some j, k in restricted_volume_sources
	j < i
	object.get(vol, k, null) != null
}

violations contains violation(
	"pss.restricted.restricted_volumes", "restrictedVolumes", "restricted", "deny", "medium",
	concat("", [
		util.plural(count({x[0] | some x in bad_volumes}), "volume ", "volumes "), util.qlist({x[0] | some x in bad_volumes}),
		" must not use ", util.qlist({x[1] | some x in bad_volumes}),
		"; only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes are allowed, so use a persistentVolumeClaim",
	]),
	[],
) if {
	applies
	restricted_on
	count(bad_volumes) > 0
}
