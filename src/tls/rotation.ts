// When belay's certificate controller rotates what, decided from the TLS
// Secret alone (no I/O here). The Secret holds the CA bundle clients trust
// (ca.crt: every CA not yet expired, newest first), the newest CA's key
// (ca.key) and the serving pair (tls.crt, tls.key).
//
// Lifetimes are renewed with a third left, as cert-manager's default
// renewBefore does. A CA is renewed by adding a new one to the bundle, never
// by replacing it: the serving certificate moves to the new CA only once the
// bundle with both has been written into every webhook configuration and has
// had time to reach the API servers (Kyverno's and Gatekeeper's cert
// controllers overlap CAs the same way), so no client ever sees a certificate
// from a CA it does not trust yet. The old CA leaves the bundle when it
// expires.

import { type CertificateFacts, inspectCertificate, issueServingCertificate, keyMatches, newCertificateAuthority, signedBy, splitPem } from './pki.js';

/** The Secret's data, decoded. */
export interface TlsSecretData {
  readonly 'ca.crt'?: string;
  readonly 'ca.key'?: string;
  readonly 'tls.crt'?: string;
  readonly 'tls.key'?: string;
}

/** Annotation recording when the newest CA was made (by the writer's clock). */
export const CA_CREATED_ANNOTATION = 'belay.dev/ca-created-at';

export interface RotationPolicy {
  readonly caValidityMs: number;
  readonly certValidityMs: number;
  /** The serving certificate's DNS names and IP addresses. */
  readonly hosts: readonly string[];
  /** How long a new CA is in the published bundle before a certificate it signed is served. */
  readonly propagationMs: number;
  /** Subject of new CAs (a timestamp is added). */
  readonly caName?: string;
}

export interface RotationState {
  readonly data: TlsSecretData;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RotationPlan {
  /** What to write; undefined when the Secret is fine as it is. */
  readonly next: RotationState | undefined;
  /** What changed and why, for the log. */
  readonly changes: readonly { what: 'ca' | 'certificate'; why: string }[];
  /** When to look again (a renewal or a propagation falls due). */
  readonly recheckAt: Date;
}

/** Renewal at two thirds of a lifetime. */
export function renewalTime(c: { notBefore: Date; notAfter: Date }): Date {
  return new Date(c.notAfter.getTime() - (c.notAfter.getTime() - c.notBefore.getTime()) / 3);
}

interface Ca {
  readonly pem: string;
  readonly facts: CertificateFacts;
}

/**
 * The next state of the Secret at `now`. `published` says whether the
 * current CA bundle (ca.crt as it is in `state`) is in every webhook
 * configuration the controller writes it to.
 */
export function planRotation(state: RotationState, policy: RotationPolicy, now: Date, published: boolean): RotationPlan {
  const changes: { what: 'ca' | 'certificate'; why: string }[] = [];
  const annotations = { ...state.annotations };
  let cas = parseCas(state.data['ca.crt']).filter((ca) => ca.facts.notAfter > now);
  let signer = signerOf(cas, state.data['ca.key']);
  let signerKey = state.data['ca.key'];
  let bundleChanged = cas.length !== splitPem(state.data['ca.crt'] ?? '').length;
  if (bundleChanged) changes.push({ what: 'ca', why: 'an expired CA left the bundle' });

  if (!signer || !signerKey || now >= renewalTime(signer.facts)) {
    const why = !signer ? (cas.length ? 'the CA key does not match the bundle' : 'no CA yet') : 'the CA is due for renewal';
    const made = newCertificateAuthority({
      commonName: `${policy.caName ?? 'belay-ca'}-${Math.floor(now.getTime() / 1000)}`,
      validityMs: policy.caValidityMs,
      now,
    });
    signer = { pem: made.cert, facts: inspectCertificate(made.cert) };
    signerKey = made.key;
    cas = [signer, ...cas.filter((ca) => ca.pem !== signer?.pem)];
    annotations[CA_CREATED_ANNOTATION] = now.toISOString();
    bundleChanged = true;
    changes.push({ what: 'ca', why });
  }
  // A bundle changed here is not published yet, whatever the webhooks held before.
  const signerPublishedAt = published && !bundleChanged ? createdAt(annotations, signer) : undefined;
  const signerServable = signerPublishedAt !== undefined && now.getTime() - signerPublishedAt.getTime() >= policy.propagationMs;

  const leaf = parseLeaf(state.data['tls.crt'], state.data['tls.key']);
  const issuer = leaf ? cas.find((ca) => signedBy(leaf, ca.facts)) : undefined;
  let leafWhy: string | undefined;
  if (!leaf) leafWhy = 'no usable serving certificate';
  else if (leaf.notAfter <= now) leafWhy = 'the serving certificate expired';
  else if (!issuer) leafWhy = 'the serving certificate is not signed by a CA in the bundle';
  else if (!sameHosts(leaf.hosts, policy.hosts)) leafWhy = `the serving names changed (${policy.hosts.join(', ')})`;
  else if (issuer.pem !== signer.pem && signerServable) leafWhy = 'moving to the new CA';
  else if (now >= renewalTime(leaf) && (issuer.pem === signer.pem || signerServable)) leafWhy = 'the serving certificate is due for renewal';

  let data: TlsSecretData = { ...state.data, 'ca.crt': cas.map((c) => c.pem).join(''), 'ca.key': signerKey };
  let servedLeaf = leaf;
  if (leafWhy) {
    const issued = issueServingCertificate({ ca: { cert: signer.pem, key: signerKey }, hosts: policy.hosts, validityMs: policy.certValidityMs, now });
    data = { ...data, 'tls.crt': issued.cert, 'tls.key': issued.key };
    servedLeaf = inspectCertificate(issued.cert);
    changes.push({ what: 'certificate', why: leafWhy });
  }

  // Look again when something falls due: the CA's or the certificate's renewal, or the new CA's propagation.
  const due = [renewalTime(signer.facts)];
  if (servedLeaf) due.push(renewalTime(servedLeaf));
  if (servedLeaf && !signedBy(servedLeaf, signer.facts)) {
    const since = createdAt(annotations, signer) ?? now;
    due.push(new Date(Math.max(now.getTime(), since.getTime() + policy.propagationMs)));
  }
  for (const ca of cas) due.push(ca.facts.notAfter);
  const recheckAt = new Date(Math.max(now.getTime() + 1_000, Math.min(...due.map((d) => d.getTime()))));
  return { next: changes.length ? { data, annotations } : undefined, changes, recheckAt };
}

function parseCas(bundle: string | undefined): Ca[] {
  const out: Ca[] = [];
  for (const pem of splitPem(bundle ?? '')) {
    try {
      const facts = inspectCertificate(pem);
      if (facts.isCA) out.push({ pem, facts });
    } catch {
      // An unreadable entry is dropped from the bundle.
    }
  }
  return out;
}

function signerOf(cas: readonly Ca[], key: string | undefined): Ca | undefined {
  if (!key) return undefined;
  // The newest CA whose key this is: new CAs are put first.
  return cas.find((ca) => keyMatches(ca.facts, key));
}

function parseLeaf(cert: string | undefined, key: string | undefined): CertificateFacts | undefined {
  if (!cert || !key) return undefined;
  try {
    const facts = inspectCertificate(cert);
    return keyMatches(facts, key) && !facts.isCA ? facts : undefined;
  } catch {
    return undefined;
  }
}

/** When the signer was made, by the annotation when it is about this CA, else by the CA's notBefore. */
function createdAt(annotations: Readonly<Record<string, string>>, signer: Ca): Date | undefined {
  const at = annotations[CA_CREATED_ANNOTATION] ? new Date(annotations[CA_CREATED_ANNOTATION]) : undefined;
  if (at && !Number.isNaN(at.getTime()) && at >= signer.facts.notBefore) return at;
  return signer.facts.notBefore;
}

function sameHosts(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map(normaliseHost));
  const y = new Set(b.map(normaliseHost));
  return x.size === y.size && [...x].every((h) => y.has(h));
}

function normaliseHost(h: string): string {
  return h.toLowerCase();
}
