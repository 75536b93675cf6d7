# Image facts (input.images, docs/images.md): what each container image runs
# as, read from its registry by the gateway or `belay check`, or stated by a
# `belay test` case, keyed by the image as the pod spec writes it. Absent
# facts mean unknown, never root or non-root.
#
# Rules whose answer depends on an image are in the `images.` rule family and
# fire while the facts are unknown: the first evaluation runs without facts,
# and a reason in this family is what makes the caller look the images up and
# ask again (src/images/source.ts). So an object that needs no image fact
# costs no registry lookup.
package belay.lib.images

import rego.v1

import data.belay.lib.config.cfg

# facts(image) is the image's facts, or an unknown answer when there are none.
facts(image) := f if {
	is_string(image)
	f := input.images[image]
	is_object(f)
} else := {"known": false, "reason": "no registry was asked about it"}

# non_root(image): the image names a numeric UID above 0, which the kubelet
# accepts under runAsNonRoot without a runAsUser.
non_root(image) if {
	f := facts(image)
	f.known == true
	f.nonRoot == true
	is_number(f.uid)
	f.uid > 0
}

# opt_in_uid is the UID policy data says to set when an image's user cannot
# be trusted (data.belay.config.images.runAsUser); undefined without opt-in.
opt_in_uid := u if {
	u := cfg.images.runAsUser
	is_number(u)
	u > 0
	u == floor(u)
}

# The decision table's rows for an image whose user does not make
# runAsNonRoot safe (src/images/nonroot.ts is the reference, and a test holds
# the two to the same words): image-unknown, image-named, image-root.
row(image) := "image-unknown" if {
	not known(image)
} else := "image-named" if {
	not numeric_uid(image)
} else := "image-named" if {
	facts(image).uid < 0
} else := "image-root"

known(image) if facts(image).known == true

numeric_uid(image) if {
	f := facts(image)
	f.named != true
	is_number(f.uid)
}

user_of(image) := u if {
	u := facts(image).user
	is_string(u)
} else := ""

# problem(image, who) says why runAsNonRoot: true cannot be trusted to let
# `who` (a container, named with its image) start.
problem(image, who) := concat("", [
	"belay could not read the user of image ", image_text(image), " (", reason_of(image), "), so it cannot tell whether runAsNonRoot: true would let ", who, " start",
]) if {
	row(image) == "image-unknown"
} else := concat("", [
	"image ", image_text(image), " runs as user \"", user_of(image), "\", a name the kubelet cannot verify as non-root, so runAsNonRoot: true would stop ", who, " from starting",
]) if {
	not numeric_uid(image)
} else := concat("", [
	"image ", image_text(image), " runs as user \"", user_of(image), "\", which is not a valid UID, so runAsNonRoot: true cannot be trusted to let ", who, " start",
]) if {
	row(image) == "image-named"
} else := concat("", ["image ", image_text(image), " runs as root (its config sets ", root_as(image), "), so runAsNonRoot: true would stop ", who, " from starting"])

reason_of(image) := r if {
	r := facts(image).reason
	is_string(r)
	r != ""
} else := "no reason given"

root_as(image) := concat("", ["User \"", user_of(image), "\""]) if user_of(image) != ""

root_as(image) := "no User, so root" if user_of(image) == ""

remedy := "use an image whose Dockerfile sets a numeric non-root USER (e.g. USER 65532), or set securityContext.runAsUser to a non-zero UID the image can run as"

# human(image, who) is the message of a change only a person can make.
human(image, who) := concat("", [problem(image, who), "; ", remedy])

# with_uid(uid, who) is the warning of a fix that sets the opted-in UID.
with_uid(uid, who) := concat("", [
	"belay set runAsUser: ", format_int(uid, 10), " with runAsNonRoot on ", who,
	" (policy opt-in): the image must be able to run as UID ", format_int(uid, 10), " (files it writes, ports below 1024)",
])

# who(name, image) names a container the way the table's messages do.
who(name, image) := concat("", ["container \"", name, "\" (image ", image_text(image), ")"])

image_text(image) := image if is_string(image)

image_text(image) := "none" if not is_string(image)
