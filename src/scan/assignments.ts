// Credentials found by where they stand in text rather than by their shape:
// the value of a credential-named key (`password: …`, `DB_PASSWORD=…`,
// `"apiKey": "…"`, `--token …`, `Authorization: Bearer …`), the password of
// a URL (`postgres://user:…@host`), of a .pgpass line, of `curl -u`, of
// `mysql -p…` and `docker login -p`. Keys are judged by keys.ts; a value must
// not be a placeholder, and one found mid-line (a log) must look random.

import type { FindingKind, Match } from './findings.js';
import { classifyKey, isPlaceholder, type KeyClass, looksRandom } from './keys.js';
import { blockScalarSpan, lineEndWithin, lineStartWithin } from './lines.js';

/** Substrings of every credential-like key; each hit is widened to the whole key. */
const HINT = /pass|pwd|secret|token|key|cred|auth|bearer|jwt|cookie|dsn/gi;
const KEY_CHAR = /[A-Za-z0-9_.\-/]/;
const MAX_KEY = 100;
const MAX_VALUE = 8192;

const DB_SCHEMES =
  /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|clickhouse|cockroachdb|couchdb|cassandra|neo4j|memcached|nats|kafka|jdbc:[a-z]+)$/i;
// The password runs to the last '@' before the host: people paste unencoded '@'s.
const URL_CREDS = /\b([a-z][a-z0-9+.:-]{1,24}):\/\/([^\s:@/'"`<>{}]{0,128}):([^\s/'"`<>]{1,256})@(?=[A-Za-z0-9[._-])/gi;
const PGPASS = /^([A-Za-z0-9.*_[\]:-]{1,253}):(\d{1,5}|\*):([^:\s]{1,128}):([^:\s]{1,128}):(\S{1,256})$/gm;
const CURL_USER = /(?:^|\s)(?:-u|--user|--proxy-user)(?:=|\s{1,4})(["']?)([^\s:"']{1,128}):([^\s"']{1,256})\1(?=\s|$)/gm;
const PASSWORD_FLAG = /(?:^|\s)-p(["']?)([^\s"'-][^\s"']{2,255})\1(?=\s|$)|(?:^|\s)(?:-p|--password)(?:=|\s{1,4})(["']?)([^\s"'-][^\s"']{0,255})\3(?=\s|$)/gm;

interface Value {
  start: number;
  end: number;
  /** The key begins its line (YAML, .env, INI, properties, describe output) or is a JSON key. */
  structural: boolean;
}

export function assignmentMatches(text: string, lower: string): KeyedMatch[] {
  const out: KeyedMatch[] = [];
  keyedValues(text, out);
  if (text.includes('://')) urlPasswords(text, out);
  if (text.includes(':')) {
    for (const m of text.matchAll(PGPASS)) {
      const value = m[5]!;
      if (isPlaceholder(value) || /^\d+$/.test(m[4]!)) continue;
      const start = m.index + m[0].length - value.length;
      out.push(match('password', 'belay/pgpass', start, start + value.length, 'a password in a .pgpass line'));
    }
  }
  if (lower.includes('-u') || lower.includes('--user')) {
    for (const m of text.matchAll(CURL_USER)) {
      const line = lineAround(text, m.index);
      if (!/\b(?:curl|wget|http|httpie|xh|helm|git|svn|ftp|lftp)\b/.test(line)) continue;
      const value = m[3]!;
      if (isPlaceholder(value)) continue;
      const start = m.index + m[0].length - m[1]!.length - value.length;
      out.push(match('password', 'belay/cli-user-password', start, start + value.length, 'a password given with -u user:password'));
    }
  }
  if (lower.includes('-p')) {
    for (const m of text.matchAll(PASSWORD_FLAG)) {
      const value = m[2] ?? m[4]!;
      const line = lineAround(text, m.index);
      const attached = m[2] !== undefined;
      if (
        attached
          ? !/\b(?:mysql|mysqldump|mysqladmin|mariadb)\b/.test(line)
          : !/\b(?:login|mysql|mysqldump|mysqladmin|mariadb|sqlcmd|redis-cli|mongo|mongosh)\b/.test(line)
      )
        continue;
      if (isPlaceholder(value) || /^\d{1,5}$/.test(value)) continue;
      const quote = (attached ? m[1] : m[3]) ?? '';
      const start = m.index + m[0].length - quote.length - value.length;
      out.push(match('password', 'belay/cli-password-flag', start, start + value.length, 'a password given on a command line'));
    }
  }
  return out;
}

/** A match with the key it was assigned to, for telling kinds apart. */
export type KeyedMatch = Match & { key?: string };

function match(kind: FindingKind, rule: string, start: number, end: number, description: string, key?: string): KeyedMatch {
  return { kind, rule, start, end, description, ...(key !== undefined ? { key } : {}) };
}

/** The line around `at`, at most 512 characters each way. */
function lineAround(text: string, at: number): string {
  const s = lineStartWithin(text, at, 512);
  return text.slice(s === -1 ? at - 512 : s, lineEndWithin(text, at, 512));
}

function keyedValues(text: string, out: KeyedMatch[]): void {
  let scannedTo = -1;
  HINT.lastIndex = 0;
  for (const h of text.matchAll(HINT)) {
    if (h.index < scannedTo) continue;
    let ks = h.index;
    while (ks > 0 && h.index - ks < MAX_KEY && KEY_CHAR.test(text[ks - 1]!)) ks--;
    let ke = h.index + h[0].length;
    while (ke < text.length && ke - h.index < MAX_KEY && KEY_CHAR.test(text[ke]!)) ke++;
    scannedTo = ke;
    const key = text.slice(ks, ke).replace(/^\/+|[/.]+$/g, '');
    const cls = classifyKey(key);
    if (!cls) continue;
    const v = readValue(text, ks, ke, cls, key);
    if (!v) continue;
    // Keys inside this value are part of it: skipping them keeps the scan linear.
    scannedTo = Math.max(scannedTo, v.end);
    const value = text.slice(v.start, v.end);
    if (!acceptable(value, v.structural)) continue;
    out.push(
      match(
        cls,
        'belay/keyed-value',
        v.start,
        v.end,
        cls === 'password' ? `the value of ${describeKey(key)}, a password` : `the value of ${describeKey(key)}, a credential`,
        key.replace(/^-+/, ''),
      ),
    );
  }
}

function describeKey(key: string): string {
  return key.length > 40 ? `a field named like a credential` : `"${key}"`;
}

export function acceptable(value: string, structural: boolean): boolean {
  if (value.length === 0 || isPlaceholder(value)) return false;
  if (/^[[{]/.test(value)) return false;
  // A URL's password is found by the URL rule; the rest of the URL stays readable.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  if (/^\d{1,5}$/.test(value)) return false;
  // Several words are prose ("auth: using config from …"), not a credential.
  if (value.trim().split(/\s+/).length >= 3) return false;
  return structural || looksRandom(value);
}

/** Reads the value assigned to the key at [ks, ke), or null when no value is assigned there. */
function readValue(text: string, ks: number, ke: number, cls: KeyClass, key: string): Value | null {
  const found = lineStartWithin(text, ks, 120);
  const lineStart = found === -1 ? ks - 120 : found;
  const prefix = text.slice(lineStart, ks);
  const lineStartKey = found !== -1 && /^[ \t]*(?:-[ \t]+)?(?:export[ \t]+|set[ \t]+)?(?:\\?["'])?$/.test(prefix);
  const jsonKey = /(?:^|[{,[][ \t]*)\\?"$/.test(prefix) || /[{,][ \t]*\\?"$/.test(prefix);
  let i = ke;
  // The key's closing quote (JSON, or JSON escaped inside a string).
  if (text[i] === '\\' && text[i + 1] === '"') i += 2;
  else if (text[i] === '"' || text[i] === "'") i++;
  if (text[i] === ']') i++;
  const gapStart = i;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t') && i - gapStart < 40) i++;
  const gap = i - gapStart;
  let op = '';
  const two = text.slice(i, i + 2);
  if (two === ':=' || two === '=>' || two === '?=' || two === '+=' || two === '==') op = two;
  else if (text[i] === '=' || text[i] === ':') op = text[i]!;
  if (op === ':' && !/^[ \t\r\n"'\\]|^$/.test(text.slice(i + 1, i + 2))) return null; // "http://", "a:b"
  if (op === '') {
    const rest = text.slice(i, i + 8);
    const prose = /^(?:is|was|=)[ \t]/.test(rest) && gap > 0 && /^[A-Za-z]+$/.test(key);
    const flag = key.startsWith('--') || (text[ks - 1] === '-' && text[ks - 2] === '-');
    if (prose) op = rest.startsWith('is') ? 'is' : 'was';
    else if (flag && gap > 0) op = ' ';
    else return null;
  }
  if (op === '==' && cls !== 'password') return null;
  i += op === ' ' ? 0 : op.length;
  const afterOp = i;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t') && i - afterOp < 40) i++;
  const spaced = i > afterOp || gap > 0;
  const structural = (lineStartKey || jsonKey) && op !== 'is' && op !== 'was' && op !== ' ';
  const c = text[i];
  if (c === undefined || c === '\n' || c === '\r') return null;
  // Quoted, possibly JSON-escaped inside another string.
  const escapedQuote = c === '\\' && text[i + 1] === '"';
  if (c === '"' || c === "'" || c === '`' || escapedQuote) {
    const open = escapedQuote ? '\\"' : c;
    const from = i + open.length;
    const close = findClose(text, from, open);
    if (close !== -1) return scheme(text, { start: from, end: close, structural: structural || jsonKey });
  }
  if (structural && (c === '|' || c === '>') && /^[|>][-+]?\d?[ \t]*(?:#.*)?$/.test(restOfLine(text, i))) return blockScalar(text, lineStart, i);
  let end: number;
  if (structural && (op === ':' || (op === '=' && spaced))) {
    // YAML, INI and describe output: the rest of the line, less a trailing comment.
    end = lineEndAt(text, i);
    const comment = text.slice(i, end).search(/[ \t][#;][ \t]/);
    if (comment !== -1) end = i + comment;
    while (end > i && /[ \t\r,]/.test(text[end - 1]!)) end--;
    if (op === ':' && text[end - 1] === '"' && jsonKey) end--;
  } else {
    end = i;
    const stop = structural ? /[\s"'`]/ : /[\s,;&"'`<>)\]}|]/;
    while (end < text.length && end - i < MAX_VALUE && !stop.test(text[end]!)) end++;
    if (!structural && text[end - 1] === ':') return null;
  }
  if (end <= i) return null;
  return scheme(text, { start: i, end, structural });
}

/** An Authorization value keeps its scheme word readable: only what follows "Bearer " is the secret. */
function scheme(text: string, v: Value): Value | null {
  const m = /^(?:Bearer|Basic|Token|Digest|ApiKey|Api-Key|SSWS|Splunk|GenieKey)[ \t]+/i.exec(text.slice(v.start, Math.min(v.end, v.start + 20)));
  if (!m) return v;
  return v.start + m[0].length < v.end ? { ...v, start: v.start + m[0].length } : null;
}

function findClose(text: string, from: number, open: string): number {
  const limit = Math.min(text.length, from + MAX_VALUE);
  for (let j = from; j < limit; j++) {
    const ch = text[j]!;
    if (ch === '\n') return -1;
    if (open === '\\"') {
      if (ch === '\\' && text[j + 1] === '"') return j;
      if (ch === '\\') j++;
      continue;
    }
    if (ch === '\\' && open === '"') {
      j++;
      continue;
    }
    if (ch === open) return j;
  }
  return -1;
}

function lineEndAt(text: string, at: number): number {
  return lineEndWithin(text, at, MAX_VALUE);
}

function restOfLine(text: string, at: number): string {
  return text.slice(at, lineEndAt(text, at));
}

/** A YAML block scalar (`key: |`): its content is every following line indented more than the key. */
function blockScalar(text: string, lineStart: number, at: number): Value | null {
  const indent = /^[ \t-]*/.exec(text.slice(lineStart, at))![0].length;
  const span = blockScalarSpan(text, lineEndAt(text, at) + 1, indent);
  return span === null ? null : { start: span[0], end: span[1], structural: true };
}

function urlPasswords(text: string, out: KeyedMatch[]): void {
  for (const m of text.matchAll(URL_CREDS)) {
    const schemeName = m[1]!.replace(/^.*:/, (s) => (s.startsWith('jdbc:') ? s : s.slice(s.lastIndexOf(':') + 1)));
    const user = m[2]!;
    const password = m[3]!;
    if (isPlaceholder(password) || /^\$/.test(user)) continue;
    const start = m.index + m[0].length - 1 - password.length;
    const db = DB_SCHEMES.test(m[1]!) || DB_SCHEMES.test(schemeName);
    out.push(
      match(
        db ? 'connection-string' : 'basic-auth',
        'belay/url-password',
        start,
        start + password.length,
        db ? 'a database connection string with a password' : 'a user name and password in a URL',
      ),
    );
  }
}
