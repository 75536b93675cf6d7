// Detectors that need more than one pattern: PEM private keys (raw, JSON-
// escaped, or base64-encoded as in a kubeconfig's client-key-data or a
// Secret's tls.key), JSON Web Tokens (service-account tokens told apart from
// others, and base64-encoded ones as a Secret's data.token holds them),
// Kubernetes bootstrap tokens, and bearer or basic Authorization values.
// Every pattern is linear and every search is bounded.

import type { Match } from './findings.js';
import { isPlaceholder } from './keys.js';
import { indexWithin, lineEndWithin } from './lines.js';

const B64URL = 'A-Za-z0-9_-';
/** A PEM block longer than this is not a key (a 16384-bit RSA key is ~13 KB). */
const MAX_PEM = 32 * 1024;

const PEM_BEGIN = /-{4,5} ?BEGIN ([A-Z0-9 ]{0,40}?)PRIVATE KEY(?: BLOCK)? ?-{4,5}|PuTTY-User-Key-File-[23]: /g;
const JWT = new RegExp(`(?<![${B64URL}])eyJ[${B64URL}]{8,4096}\\.eyJ[${B64URL}]{8,16384}\\.[${B64URL}]{8,4096}`, 'g');
const B64_PEM = /(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,60000}={0,2}/g;
const B64_JWT = /(?<![A-Za-z0-9+/])ZXlK[A-Za-z0-9+/]{60,40000}={0,2}/g;
const BOOTSTRAP = /(?<![a-z0-9])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9])/g;
const BEARER = /\bBearer[ \t]+([A-Za-z0-9._~+/-]{16,8192}=*)/gi;
const BASIC = /\bBasic[ \t]+([A-Za-z0-9+/]{8,1024}={0,2})(?![A-Za-z0-9+/=])/g;

export function kubernetesMatches(text: string, lower: string): Match[] {
  const out: Match[] = [];
  if (lower.includes('private key') || lower.includes('putty-user-key')) out.push(...pemKeys(text));
  if (text.includes('LS0tLS1CRUdJTi')) out.push(...base64PemKeys(text));
  if (text.includes('eyJ')) {
    for (const m of text.matchAll(JWT)) out.push(jwtMatch(m[0], m.index, 'belay/jwt'));
  }
  if (text.includes('ZXlK')) {
    for (const m of text.matchAll(B64_JWT)) {
      const decoded = Buffer.from(m[0], 'base64').toString('latin1');
      if (/^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\s*$/.test(decoded)) {
        out.push({ ...jwtMatch(decoded.trim(), m.index, 'belay/jwt-base64'), end: m.index + m[0].length });
      }
    }
  }
  if (lower.includes('token')) {
    for (const m of text.matchAll(BOOTSTRAP)) {
      if (!/token/i.test(text.slice(Math.max(0, m.index - 40), m.index))) continue;
      out.push({
        kind: 'bootstrap-token',
        rule: 'belay/bootstrap-token',
        start: m.index,
        end: m.index + m[0].length,
        description: 'a Kubernetes bootstrap token (kubeadm join --token)',
      });
    }
  }
  if (lower.includes('bearer')) {
    for (const m of text.matchAll(BEARER)) {
      const value = m[1]!;
      if (isPlaceholder(value)) continue;
      const start = m.index + m[0].length - value.length;
      out.push({
        kind: 'bearer-token',
        rule: 'belay/bearer-token',
        start,
        end: start + value.length,
        description: 'a bearer token from an Authorization header',
      });
    }
  }
  if (text.includes('Basic')) {
    for (const m of text.matchAll(BASIC)) {
      const value = m[1]!;
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (!/^[^\s:]{1,128}:\S{3,}$/.test(decoded) || decoded.includes('\uFFFD')) continue;
      const start = m.index + m[0].length - value.length;
      out.push({
        kind: 'basic-auth',
        rule: 'belay/basic-auth-header',
        start,
        end: start + value.length,
        description: 'a user name and password (HTTP basic auth)',
      });
    }
  }
  return out;
}

function jwtMatch(value: string, start: number, rule: string): Match {
  const sa = isServiceAccountJwt(value);
  return {
    kind: sa ? 'service-account-token' : 'jwt',
    rule,
    start,
    end: start + value.length,
    description: sa ? 'a Kubernetes service account token' : 'a signed JSON Web Token',
  };
}

/** PEM private keys, raw or with JSON-escaped newlines; a key cut off before its END line is taken to the end of its body. */
function pemKeys(text: string): Match[] {
  const out: Match[] = [];
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
    const start = m.index;
    const after = m.index + m[0].length;
    let end: number;
    if (m[0].startsWith('PuTTY')) {
      const stop = indexWithin(text, 'Private-MAC:', after, MAX_PEM);
      end = stop === -1 ? bodyEnd(text, after) : lineEndWithin(text, stop, 1024);
    } else {
      const endMark = indexWithin(text, 'END ', after, MAX_PEM);
      const close = endMark === -1 ? -1 : indexWithin(text, '-----', endMark, 64);
      end = close !== -1 ? close + 5 : bodyEnd(text, after);
    }
    out.push({ kind: 'private-key', rule: 'belay/private-key', start, end, description: 'a private key (PEM)' });
    PEM_BEGIN.lastIndex = Math.max(after, end);
  }
  return out;
}

/** Where a PEM body without an END line stops: the first character no base64 body (or its escaped newlines) has. */
function bodyEnd(text: string, from: number): number {
  let i = from;
  const limit = Math.min(text.length, from + MAX_PEM);
  while (i < limit && /[A-Za-z0-9+/=\s\\:,-]/.test(text[i]!)) i++;
  return i;
}

/** Base64 of a PEM block ("LS0tLS1CRUdJTi" is "-----BEGIN"): a private key when its header says so. */
function base64PemKeys(text: string): Match[] {
  const out: Match[] = [];
  for (const m of text.matchAll(B64_PEM)) {
    const head = Buffer.from(m[0].slice(0, 80), 'base64').toString('latin1');
    if (!/PRIVATE KEY|PuTTY/.test(head)) continue;
    out.push({
      kind: 'private-key',
      rule: 'belay/private-key-base64',
      start: m.index,
      end: m.index + m[0].length,
      description: 'a base64-encoded private key',
    });
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
  if (typeof claims !== 'object' || claims === null) return false;
  return (
    claims.iss === 'kubernetes/serviceaccount' ||
    'kubernetes.io' in claims ||
    (typeof claims.sub === 'string' && claims.sub.startsWith('system:serviceaccount:'))
  );
}
