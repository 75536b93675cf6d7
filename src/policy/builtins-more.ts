// Built-ins that Gatekeeper templates (and other Rego written for OPA) call
// and that neither OPA's wasm compiler nor the opa-wasm SDK implements: the
// strings, regex, semver, encoding, hashing and cast functions, with OPA's
// semantics (Go's regexp syntax is close enough to JavaScript's for the
// patterns policies use). An invalid argument throws, which fails the
// evaluation (closed), as belay's other built-ins do.

import { createHash } from 'node:crypto';
import type { CustomBuiltin } from './builtins.js';

function str(v: unknown, name: string, n = 1): string {
  if (typeof v !== 'string') throw new TypeError(`${name}: operand ${n} must be string`);
  return v;
}

function strs(v: unknown, name: string, n: number): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new TypeError(`${name}: operand ${n} must be a string, or an array or set of strings`);
}

function int(v: unknown, name: string, n: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: operand ${n} must be an integer`);
  return v;
}

function regex(pattern: string, name: string, flags = ''): RegExp {
  // Go's (?i) and (?s) prefixes become JavaScript flags.
  let p = pattern;
  let f = flags;
  const m = /^\(\?([imsU]+)\)/.exec(p);
  if (m) {
    p = p.slice(m[0].length);
    for (const c of m[1]!) if ('ims'.includes(c) && !f.includes(c)) f += c;
  }
  try {
    return new RegExp(p, `${f}u`);
  } catch (err) {
    throw new Error(`${name}: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/** semver 2.0.0, as OPA's semver built-ins read it. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function semverCompare(a: string, b: string): number {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x) throw new Error(`semver.compare: operand 1: string ${JSON.stringify(a)} is not a valid SemVer`);
  if (!y) throw new Error(`semver.compare: operand 2: string ${JSON.stringify(b)} is not a valid SemVer`);
  for (let i = 1; i <= 3; i++) {
    const d = BigInt(x[i]!) - BigInt(y[i]!);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  const px = x[4];
  const py = y[4];
  if (px === undefined || py === undefined) return px === py ? 0 : px === undefined ? 1 : -1;
  const ix = px.split('.');
  const iy = py.split('.');
  for (let i = 0; i < Math.min(ix.length, iy.length); i++) {
    const p = ix[i]!;
    const q = iy[i]!;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return BigInt(p) < BigInt(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return Math.sign(ix.length - iy.length);
}

function hash(alg: string, name: string) {
  return (s: unknown) => createHash(alg).update(str(s, name), 'utf8').digest('hex');
}

export function moreBuiltins(): Record<string, CustomBuiltin> {
  return {
    'strings.any_prefix_match': (search, base) => {
      const s = strs(search, 'strings.any_prefix_match', 1);
      const b = strs(base, 'strings.any_prefix_match', 2);
      return s.some((x) => b.some((p) => x.startsWith(p)));
    },
    'strings.any_suffix_match': (search, base) => {
      const s = strs(search, 'strings.any_suffix_match', 1);
      const b = strs(base, 'strings.any_suffix_match', 2);
      return s.some((x) => b.some((p) => x.endsWith(p)));
    },
    'strings.count': (search, sub) => {
      const s = str(search, 'strings.count', 1);
      const t = str(sub, 'strings.count', 2);
      // Go's strings.Count: an empty substring counts the runes plus one.
      if (t === '') return [...s].length + 1;
      return s.split(t).length - 1;
    },
    indexof_n: (haystack, needle) => {
      const h = [...str(haystack, 'indexof_n', 1)];
      const n = [...str(needle, 'indexof_n', 2)];
      const out: number[] = [];
      for (let i = 0; i + n.length <= h.length; i++) {
        if (n.every((c, j) => h[i + j] === c)) out.push(i);
      }
      return out;
    },
    'regex.split': (pattern, value) => {
      const s = str(value, 'regex.split', 2);
      return s.split(regex(str(pattern, 'regex.split'), 'regex.split', 'g'));
    },
    'regex.replace': (value, pattern, replacement) => {
      const s = str(value, 'regex.replace', 1);
      // Go's ${1} and $1 expansions map to JavaScript's $1.
      const r = str(replacement, 'regex.replace', 3)
        .replace(/\$\{(\w+)\}/g, '$$<$1>')
        .replace(/\$<(\d+)>/g, '$$$1');
      return s.replace(regex(str(pattern, 'regex.replace', 2), 'regex.replace', 'g'), r);
    },
    'regex.find_n': (pattern, value, count) => {
      const re = regex(str(pattern, 'regex.find_n'), 'regex.find_n', 'g');
      const n = int(count, 'regex.find_n', 3);
      const found = [...str(value, 'regex.find_n', 2).matchAll(re)].map((m) => m[0]);
      return n < 0 ? found : found.slice(0, n);
    },
    'semver.is_valid': (v) => typeof v === 'string' && SEMVER.test(v),
    'semver.compare': (a, b) => semverCompare(str(a, 'semver.compare', 1), str(b, 'semver.compare', 2)),
    'glob.quote_meta': (s) => str(s, 'glob.quote_meta').replace(/[*?\\[\]{}]/g, '\\$&'),
    'hex.encode': (s) => Buffer.from(str(s, 'hex.encode'), 'utf8').toString('hex'),
    'hex.decode': (s) => {
      const h = str(s, 'hex.decode');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`hex.decode: invalid hex string ${JSON.stringify(h)}`);
      return Buffer.from(h, 'hex').toString('utf8');
    },
    'base64url.encode_no_pad': (s) => Buffer.from(str(s, 'base64url.encode_no_pad'), 'utf8').toString('base64url'),
    'crypto.md5': hash('md5', 'crypto.md5'),
    'crypto.sha1': hash('sha1', 'crypto.sha1'),
    'crypto.sha256': hash('sha256', 'crypto.sha256'),
    'numbers.range_step': (a, b, step) => {
      const x = int(a, 'numbers.range_step', 1);
      const y = int(b, 'numbers.range_step', 2);
      const s = int(step, 'numbers.range_step', 3);
      if (s <= 0) throw new Error('numbers.range_step: step must be a positive number above zero');
      const out: number[] = [];
      if (x <= y) for (let i = x; i <= y; i += s) out.push(i);
      else for (let i = x; i >= y; i -= s) out.push(i);
      return out;
    },
    'urlquery.encode': (s) =>
      encodeURIComponent(str(s, 'urlquery.encode'))
        .replace(/%20/g, '+')
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    'urlquery.decode': (s) => decodeURIComponent(str(s, 'urlquery.decode').replace(/\+/g, ' ')),
    cast_array: (v) => {
      if (!Array.isArray(v)) throw new TypeError('cast_array: operand 1 must be array or set');
      return v;
    },
    cast_string: (v) => str(v, 'cast_string'),
    cast_boolean: (v) => {
      if (typeof v !== 'boolean') throw new TypeError('cast_boolean: operand 1 must be boolean');
      return v;
    },
    cast_null: (v) => {
      if (v !== null) throw new TypeError('cast_null: operand 1 must be null');
      return null;
    },
    cast_object: (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('cast_object: operand 1 must be object');
      return v;
    },
  };
}
