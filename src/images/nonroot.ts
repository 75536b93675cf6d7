// When is `runAsNonRoot: true` a safe automatic fix? The kubelet refuses to
// start a container under runAsNonRoot unless its effective runAsUser is a
// non-zero UID, or (without runAsUser) its image names a numeric non-zero
// user; a root image ("container has runAsNonRoot and image will run as
// root") and a named user ("image has non-numeric user … cannot verify user
// is non-root") both fail. This is that rule as a pure decision table, the
// reference the Rego fixes follow and are tested against.

import type { ImageFacts } from './facts.js';

export interface NonRootQuestion {
  /** The container's name and image, for messages. */
  container: string;
  /** Facts about its image (known or not). */
  facts: ImageFacts;
  /** The effective runAsUser (the container's, else the pod's), when one is set. */
  runAsUser?: number | null;
  /** Policy data's opt-in: the UID to set when the image's user cannot be trusted. Absent: no opt-in. */
  optInUid?: number | null;
}

export type NonRootAnswer =
  /** Add runAsNonRoot: true and nothing else; the container still starts. */
  | { readonly action: 'fix'; readonly row: NonRootRow; readonly why: string }
  /** Add runAsNonRoot: true and runAsUser: uid; the image must tolerate running as that UID. */
  | { readonly action: 'fix-with-uid'; readonly row: NonRootRow; readonly runAsUser: number; readonly warning: string; readonly why: string }
  /** No automatic fix: a person changes the image or sets runAsUser. */
  | { readonly action: 'human'; readonly row: NonRootRow; readonly message: string };

/** Which row of the table answered (stable ids for tests, metrics and Rego parity). */
export type NonRootRow = 'run-as-user-set' | 'run-as-user-zero' | 'image-non-root' | 'image-root' | 'image-named' | 'image-unknown';

const REMEDY =
  'use an image whose Dockerfile sets a numeric non-root USER (e.g. USER 65532), or set securityContext.runAsUser to a non-zero UID the image can run as';

export function decideRunAsNonRoot(q: NonRootQuestion): NonRootAnswer {
  const who = `container "${q.container}" (image ${q.facts.image})`;
  if (typeof q.runAsUser === 'number') {
    if (q.runAsUser > 0)
      return { action: 'fix', row: 'run-as-user-set', why: `${who} sets runAsUser: ${q.runAsUser}, which the kubelet accepts under runAsNonRoot` };
    return {
      action: 'human',
      row: 'run-as-user-zero',
      message: `${who} sets runAsUser: ${q.runAsUser}, so runAsNonRoot: true would stop it from starting; remove runAsUser or set it to a non-zero UID the image can run as`,
    };
  }
  const f = q.facts;
  if (f.known && f.nonRoot === true && typeof f.uid === 'number' && f.uid > 0) {
    return { action: 'fix', row: 'image-non-root', why: `${who} runs as UID ${f.uid}` };
  }
  let row: NonRootRow;
  let problem: string;
  if (!f.known) {
    row = 'image-unknown';
    problem = `belay could not read the user of image ${f.image} (${f.reason ?? 'no reason given'}), so it cannot tell whether runAsNonRoot: true would let ${who} start`;
  } else if (f.named || typeof f.uid !== 'number') {
    row = 'image-named';
    problem = `image ${f.image} runs as user "${f.user}", a name the kubelet cannot verify as non-root, so runAsNonRoot: true would stop ${who} from starting`;
  } else if (f.uid < 0) {
    row = 'image-named';
    problem = `image ${f.image} runs as user "${f.user}", which is not a valid UID, so runAsNonRoot: true cannot be trusted to let ${who} start`;
  } else {
    row = 'image-root';
    const as = f.user ? `User "${f.user}"` : 'no User, so root';
    problem = `image ${f.image} runs as root (its config sets ${as}), so runAsNonRoot: true would stop ${who} from starting`;
  }
  if (typeof q.optInUid === 'number' && Number.isSafeInteger(q.optInUid) && q.optInUid > 0) {
    return {
      action: 'fix-with-uid',
      row,
      runAsUser: q.optInUid,
      why: problem,
      warning: `belay set runAsUser: ${q.optInUid} with runAsNonRoot on ${who} (policy opt-in): the image must be able to run as UID ${q.optInUid} (files it writes, ports below 1024)`,
    };
  }
  return { action: 'human', row, message: `${problem}; ${REMEDY}` };
}

export type ReadOnlyRootAnswer = { readonly action: 'fix'; readonly warning: string } | { readonly action: 'human'; readonly message: string };

/**
 * readOnlyRootFilesystem: no image fact shows that a program never writes to
 * its root filesystem, so it is never a silent fix: only with policy's opt-in.
 */
export function decideReadOnlyRootFilesystem(q: { container: string; image: string; optIn?: boolean }): ReadOnlyRootAnswer {
  const who = `container "${q.container}" (image ${q.image})`;
  if (q.optIn) {
    return {
      action: 'fix',
      warning: `belay set readOnlyRootFilesystem: true on ${who} (policy opt-in): the program must write only to mounted volumes (an emptyDir for /tmp)`,
    };
  }
  return {
    action: 'human',
    message: `whether ${who} can run with a read-only root filesystem depends on what it writes, which its image does not tell; set readOnlyRootFilesystem: true and mount an emptyDir where it writes, after testing it`,
  };
}
