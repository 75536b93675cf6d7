// What a scan reports: the kind of secret and where it is. Never the secret
// itself, so a finding can be logged, returned and handed to policy safely.

export const FINDING_KINDS = [
  'cluster-token',
  'service-account-token',
  'jwt',
  'bootstrap-token',
  'private-key',
  'cloud-key',
  'kubeconfig-credential',
  'api-token',
  'bearer-token',
  'basic-auth',
  'connection-string',
  'password',
  'secret-value',
  'high-entropy',
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  /**
   * What was found. "password" and "secret-value" are values found by where
   * they stand (under a credential-named key, a Secret's data, a password
   * flag) rather than by their shape.
   */
  kind: FindingKind;
  /** Which detector matched, e.g. "belay/openshift-token" or "belay/keyed-value". */
  rule: string;
  /** Span [start, end) in UTF-16 code units, as JavaScript and JSON strings index text. */
  start: number;
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  column: number;
  description: string;
}

/** Where a detector found something, before positions are resolved. */
export interface Match {
  kind: FindingKind;
  rule: string;
  start: number;
  end: number;
  description: string;
}

/**
 * More specific detectors win over generic ones when two report overlapping
 * spans: a `token:` line holding a `sha256~` token is a cluster token.
 */
export const PRIORITY: Readonly<Record<FindingKind, number>> = {
  'private-key': 100,
  'cluster-token': 90,
  'service-account-token': 90,
  'bootstrap-token': 85,
  'cloud-key': 80,
  'api-token': 80,
  jwt: 70,
  'connection-string': 60,
  'basic-auth': 60,
  'kubeconfig-credential': 50,
  password: 45,
  'secret-value': 45,
  'bearer-token': 40,
  'high-entropy': 10,
};
