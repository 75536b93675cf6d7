// Detectors for the credentials of a Kubernetes or OpenShift cluster, which
// general rule sets do not know: OpenShift OAuth tokens (sha256~…), service
// account JWTs, bootstrap tokens, kubeconfig credentials, private keys pasted
// from JSON (escaped newlines), and cloud keys the rule set leaves out. Every
// pattern is linear (no nested quantifiers) so hostile text cannot make it
// backtrack.

import type { FindingKind, Match } from './findings.js';

interface Detector {
  rule: string;
  kind: FindingKind;
  pattern: RegExp;
  description: string;
  /** Index of the capture group holding the secret (0: the whole match). */
  group?: number;
  /** Extra check on the text around a match; false drops it. */
  accept?: (text: string, start: number, value: string) => boolean;
  /** Refines the kind from the value (JWTs). */
  classify?: (value: string) => FindingKind;
}

const B64URL = 'A-Za-z0-9_-';

const DETECTORS: readonly Detector[] = [
  {
    rule: 'belay/openshift-token',
    kind: 'cluster-token',
    // OpenShift OAuth access and authorize tokens: sha256~ and 43 base64url characters.
    pattern: new RegExp(`(?<![${B64URL}])sha256~[${B64URL}]{43}(?![${B64URL}])`, 'g'),
    description: 'an OpenShift OAuth token (sha256~…), which logs in to the cluster',
  },
  {
    rule: 'belay/jwt',
    kind: 'jwt',
    pattern: new RegExp(`(?<![${B64URL}])eyJ[${B64URL}]{8,}\\.eyJ[${B64URL}]{8,}\\.[${B64URL}]{8,}`, 'g'),
    description: 'a signed JSON Web Token',
    classify: (value) => (isServiceAccountJwt(value) ? 'service-account-token' : 'jwt'),
  },
  {
    rule: 'belay/bootstrap-token',
    kind: 'bootstrap-token',
    pattern: /(?<![a-z0-9])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9])/g,
    description: 'a Kubernetes bootstrap token (kubeadm join --token)',
    accept: (text, start) => /token/i.test(text.slice(Math.max(0, start - 32), start)),
  },
  {
    rule: 'belay/kubeconfig-client-key',
    kind: 'kubeconfig-credential',
    pattern: /^[ \t-]*client-key-data:[ \t]*["']?([A-Za-z0-9+/=]{16,})/gm,
    group: 1,
    description: "a kubeconfig user's client key",
  },
  {
    rule: 'belay/kubeconfig-user-secret',
    kind: 'kubeconfig-credential',
    pattern: /^[ \t-]*(?:token|password|id-token|refresh-token|access-token|client-secret):[ \t]*["']?([^\s"'#]{8,})/gm,
    group: 1,
    description: "a kubeconfig user's token or password",
    accept: (text, _start, value) => looksLikeKubeconfig(text) && !isPlaceholder(value),
  },
  {
    rule: 'belay/escaped-private-key',
    kind: 'private-key',
    // A PEM key inside a JSON string (a GCP service-account key file, a Secret dumped as JSON).
    pattern: /-----BEGIN[A-Z ]{0,32} PRIVATE KEY-----(?:\\r)?\\n[A-Za-z0-9+/=\\]{16,}?-----END[A-Z ]{0,32} PRIVATE KEY-----/g,
    description: 'a PEM private key (JSON-escaped)',
  },
  {
    rule: 'belay/gcp-api-key',
    kind: 'cloud-key',
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
    description: 'a Google Cloud API key',
  },
  {
    rule: 'belay/azure-storage-key',
    kind: 'cloud-key',
    pattern: /AccountKey=([A-Za-z0-9+/]{86}==)/g,
    group: 1,
    description: 'an Azure storage account key',
  },
  {
    rule: 'belay/bearer-header',
    kind: 'bearer-token',
    pattern: /\bBearer[ \t]+([A-Za-z0-9._~+/-]{20,}=*)/gi,
    group: 1,
    description: 'a bearer token from an Authorization header',
  },
];

export function kubernetesMatches(text: string): Match[] {
  const out: Match[] = [];
  for (const d of DETECTORS) {
    d.pattern.lastIndex = 0;
    for (const m of text.matchAll(d.pattern)) {
      const value = m[d.group ?? 0];
      if (value === undefined) continue;
      const start = m.index + (d.group ? m[0].indexOf(value) : 0);
      if (d.accept && !d.accept(text, start, value)) continue;
      out.push({ kind: d.classify ? d.classify(value) : d.kind, rule: d.rule, start, end: start + value.length, description: d.description });
    }
  }
  return out;
}

/** A service-account token: issued by the cluster for a system:serviceaccount subject. */
export function isServiceAccountJwt(jwt: string): boolean {
  const payload = jwt.split('.')[1];
  if (!payload) return false;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  return (
    claims.iss === 'kubernetes/serviceaccount' ||
    'kubernetes.io' in claims ||
    (typeof claims.sub === 'string' && claims.sub.startsWith('system:serviceaccount:'))
  );
}

function looksLikeKubeconfig(text: string): boolean {
  return /^[ \t]*(?:users|clusters|contexts):[ \t]*$/m.test(text) || /kind:[ \t]*Config\b/.test(text) || text.includes('client-certificate-data');
}

function isPlaceholder(value: string): boolean {
  return /^(?:\*+|x+|<[^>]*>?|\$\{?[A-Za-z_]|REDACTED|\[REDACTED\]|changeme|null|none|redacted)/i.test(value);
}
