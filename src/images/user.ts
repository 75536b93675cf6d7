// The user an image runs as, read from its config's `User` the way containerd's
// CRI plugin and the kubelet read it: the part before ":" is a numeric UID or a
// name; no User at all means root. Only a numeric, non-zero UID lets the
// kubelet start a container under `runAsNonRoot: true` without a runAsUser.

export interface ImageUser {
  /** The config's User as written ("" when the image sets none). */
  readonly user: string;
  /** The numeric UID (0 when no User is set), null when User is a name. */
  readonly uid: number | null;
  /** A non-numeric user the kubelet cannot verify ("nginx", "root"). */
  readonly named: boolean;
  /** True only for a numeric UID above 0. */
  readonly nonRoot: boolean;
}

export function parseImageUser(user: string | undefined | null): ImageUser {
  const raw = typeof user === 'string' ? user : '';
  if (raw === '') return { user: raw, uid: 0, named: false, nonRoot: false };
  const name = raw.split(':')[0]!;
  // ":1000" has no user part: the runtime reports neither UID nor name, and the kubelet takes root.
  if (name === '') return { user: raw, uid: 0, named: false, nonRoot: false };
  // strconv.ParseInt(…, 10, 64): an optional sign and decimal digits, nothing else.
  if (/^[+-]?\d+$/.test(name)) {
    const uid = Number(name);
    if (Number.isSafeInteger(uid)) return { user: raw, uid, named: false, nonRoot: uid > 0 };
  }
  return { user: raw, uid: null, named: true, nonRoot: false };
}
