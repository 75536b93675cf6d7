// High-entropy strings next to secret-ish words: the catch-all for tokens no
// pattern knows. A random string alone is not enough (hashes, ids and digests
// are random too); it must sit right after a word like "password" or "token".

import type { Match } from './findings.js';
import { classifyKey, isPlaceholder, looksRandom } from './keys.js';
import { lineStartWithin } from './lines.js';

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

const SECRET_WORDS = /(?:passw(?:or)?d|passwd|pwd|secret|token|(?:api|access|secret|private|signing|client)[_ -]?key|apikey|credential|auth|bearer|cookie)/i;
const SECRET_WORDS_ALL = new RegExp(SECRET_WORDS.source, 'gi');
const CANDIDATE = /[A-Za-z0-9+/=_\-.~]{20,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
/** How far before a candidate the secret-ish word may be, on the same line. */
const WINDOW = 48;

export interface EntropyOptions {
  /** Minimum bits per character for base64-like strings. */
  minBase64Entropy?: number;
  /** Minimum bits per character for hex strings (at most 4 bits possible). */
  minHexEntropy?: number;
}

export function highEntropyMatches(text: string, { minBase64Entropy = 3.5, minHexEntropy = 3.0 }: EntropyOptions = {}): Match[] {
  const out: Match[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index;
    // Trim punctuation that ends a sentence or a quoted value.
    const value = m[0].replace(/[.\-~]+$/, '');
    if (value.length < 20) continue;
    // Words glued together (InvalidClientTokenId, SignatureDoesNotMatch) have no digits.
    if (!/\d/.test(value) || isBenign(text, start, value)) continue;
    if (!nearSecretWord(text, start)) continue;
    if (isPlaceholder(value) || !looksRandom(value)) continue;
    const hex = HEX.test(value);
    const bits = shannonEntropy(value);
    if (hex ? value.length < 32 || bits < minHexEntropy : bits < minBase64Entropy || !mixedClasses(value)) continue;
    out.push({
      kind: 'high-entropy',
      rule: 'belay/high-entropy',
      start,
      end: start + value.length,
      description: `a high-entropy string (${bits.toFixed(1)} bits/char) next to a secret-ish word`,
    });
  }
  return out;
}

/**
 * The secret-ish word before the candidate must belong to a key named like a
 * credential ("api key", "token", "DB_PASSWORD") — not to "checksum/secret",
 * "/var/run/secrets/…" or "secretRef".
 */
function nearSecretWord(text: string, start: number): boolean {
  const found = lineStartWithin(text, start, WINDOW * 2);
  const lineStart = found === -1 ? start - WINDOW * 2 : found;
  const from = Math.max(lineStart, start - WINDOW);
  const before = text.slice(from, start);
  let last: RegExpExecArray | null = null;
  SECRET_WORDS_ALL.lastIndex = 0;
  for (let m = SECRET_WORDS_ALL.exec(before); m !== null; m = SECRET_WORDS_ALL.exec(before)) last = m;
  if (!last) return false;
  let ks = from + last.index;
  let ke = ks + last[0].length;
  while (ks > lineStart && ks > start - WINDOW * 2 && /[A-Za-z0-9_.\-/]/.test(text[ks - 1]!)) ks--;
  while (ke < start && /[A-Za-z0-9_.\-/]/.test(text[ke]!)) ke++;
  // Only separators between the key and the value: "token: …", "api key is …", not "…"key":"token"}],"next":…".
  if (!/^[\s"'`:=>,(\\]*(?:(?:is|was|of|for)[\s"'`:=>(]*)?$/.test(text.slice(ke, start))) return false;
  let key = text.slice(ks, ke);
  // "api key is …": the word before a bare "key" qualifies it.
  if (/^key$/i.test(key)) key = `${/([A-Za-z]+)[ \t]+$/.exec(text.slice(Math.max(lineStart, ks - 20), ks))?.[1] ?? ''} ${key}`;
  return classifyKey(key) !== null;
}

/** Random-looking strings that are not secrets: ids, content digests, paths, URLs. */
function isBenign(text: string, start: number, value: string): boolean {
  if (UUID.test(value)) return true;
  const before = text.slice(Math.max(0, start - 8), start).toLowerCase();
  // sha256:<hex> image digests, sha512-… integrity hashes
  if (/(?:sha(?:1|256|384|512)|md5)[:=-]$/.test(before)) return true;
  // Paths and the rest of URLs (the candidate alphabet has no colon, so a URL's "//host/…" starts with a slash).
  if (value.startsWith('/')) return true;
  // Words glued with dashes or dots (resource names, hostnames) are not random.
  if (/^[a-z0-9]+(?:[-.][a-z0-9]+)+$/.test(value) && value.split(/[-.]/).every((part) => part.length < 12 && !/\d.*[a-z]|[a-z].*\d/.test(part))) return true;
  // Base64 of a certificate or a public key.
  if (/^(?:LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS|c3NoLXJzYS|c3NoLWVkMjU1MTk|AAAAB3NzaC1yc2E|AAAAC3NzaC1lZDI1NTE5)/.test(value)) return true;
  return false;
}

function mixedClasses(value: string): boolean {
  let classes = 0;
  if (/[a-z]/.test(value)) classes++;
  if (/[A-Z]/.test(value)) classes++;
  if (/[0-9]/.test(value)) classes++;
  return classes >= 2;
}
