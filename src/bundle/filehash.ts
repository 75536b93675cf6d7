// File digests as OPA computes them for bundle signatures (v1/bundle/hash.go):
// plain files are hashed byte for byte; structured files (data.json,
// data.yaml, .manifest, .signatures.json) are hashed over a canonical form —
// object keys sorted bytewise, no whitespace, strings as Go's encoder writes
// them, and numbers exactly as written in the file (Go decodes them as
// json.Number), so "1.50" and "1.5" hash differently, as in OPA.

import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { BelayError } from '../errors.js';

/** Hash algorithms OPA accepts in a signature. MD5 and SHA-1 are refused: a signer's collision could swap a file. */
export const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

const STRUCTURED = new Set(['data.json', 'data.yaml', '.signatures.json', '.manifest']);

/** OPA's IsStructuredDoc: these files are hashed over their parsed JSON. */
export function isStructured(name: string): boolean {
  return STRUCTURED.has(name.slice(name.lastIndexOf('/') + 1));
}

/** A JSON number kept as written. */
class RawNumber {
  constructor(readonly text: string) {}
}

type Value = null | boolean | string | RawNumber | Value[] | Map<string, Value>;

/** The hex digest of one bundle file, the way OPA's signature payload states it. */
export function hashBundleFile(name: string, bytes: Uint8Array, algorithm = 'SHA-256'): string {
  const node = HASH_ALGORITHMS[algorithm];
  if (!node) {
    throw new BelayError(
      'bundle_invalid',
      `bundle signature uses hash algorithm ${JSON.stringify(algorithm)}; belay accepts ${Object.keys(HASH_ALGORITHMS).join(', ')}`,
    );
  }
  const hash = createHash(node);
  if (isStructured(name)) hash.update(canonical(parseStructured(name, bytes)));
  else hash.update(bytes);
  return hash.digest('hex');
}

function parseStructured(name: string, bytes: Uint8Array): Value {
  let text = Buffer.from(bytes).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return new JsonReader(text).document();
  } catch (jsonError) {
    // OPA accepts YAML for data.yaml (and anything that is not valid JSON).
    try {
      return fromJs(parseYaml(text, { maxAliasCount: 100 }));
    } catch {
      throw new BelayError('bundle_invalid', `bundle file ${name} is neither JSON nor YAML: ${(jsonError as Error).message}`);
    }
  }
}

function fromJs(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return new RawNumber(String(v));
  if (Array.isArray(v)) return v.map(fromJs);
  if (typeof v === 'object') return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJs(x)]));
  return String(v);
}

/** The canonical bytes OPA's walk() feeds its hash. */
export function canonical(v: Value): Buffer {
  const parts: string[] = [];
  const walk = (x: Value): void => {
    if (x instanceof Map) {
      parts.push('{');
      const keys = [...x.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      keys.forEach((k, i) => {
        if (i > 0) parts.push(',');
        parts.push(goString(k), ':');
        walk(x.get(k)!);
      });
      parts.push('}');
    } else if (Array.isArray(x)) {
      parts.push('[');
      x.forEach((e, i) => {
        if (i > 0) parts.push(',');
        walk(e);
      });
      parts.push(']');
    } else if (x instanceof RawNumber) parts.push(x.text);
    else if (typeof x === 'string') parts.push(goString(x));
    else parts.push(x === null ? 'null' : x ? 'true' : 'false');
  };
  walk(v);
  return Buffer.from(parts.join(''), 'utf8');
}

/** A string as Go's encoding/json writes it with HTML escaping off. */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20) out += `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    // A lone surrogate is invalid UTF-8 to Go, which writes U+FFFD.
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** A strict JSON reader (RFC 8259) that keeps numbers as written; duplicate keys: the last wins, as in Go. */
class JsonReader {
  #i = 0;
  constructor(readonly text: string) {}

  document(): Value {
    const v = this.#value();
    this.#ws();
    if (this.#i !== this.text.length) this.#fail('unexpected data after the top-level value');
    return v;
  }

  #fail(what: string): never {
    throw new SyntaxError(`${what} at offset ${this.#i}`);
  }

  #ws(): void {
    while (this.#i < this.text.length && ' \t\n\r'.includes(this.text[this.#i]!)) this.#i++;
  }

  #value(): Value {
    this.#ws();
    const ch = this.text[this.#i];
    if (ch === '{') return this.#object();
    if (ch === '[') return this.#array();
    if (ch === '"') return this.#string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.#i)) {
        this.#i += word.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.#i, this.#i + 512));
    if (!m || m[0] === '' || m[0] === '-') this.#fail('unexpected character');
    this.#i += m![0].length;
    return new RawNumber(m![0]);
  }

  #object(): Map<string, Value> {
    const out = new Map<string, Value>();
    this.#i++;
    this.#ws();
    if (this.text[this.#i] === '}') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (this.text[this.#i] !== '"') this.#fail('expected a string key');
      const key = this.#string();
      this.#ws();
      if (this.text[this.#i] !== ':') this.#fail('expected ":"');
      this.#i++;
      out.delete(key);
      out.set(key, this.#value());
      this.#ws();
      const c = this.text[this.#i++];
      if (c === '}') return out;
      if (c !== ',') this.#fail('expected "," or "}"');
    }
  }

  #array(): Value[] {
    const out: Value[] = [];
    this.#i++;
    this.#ws();
    if (this.text[this.#i] === ']') {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.#value());
      this.#ws();
      const c = this.text[this.#i++];
      if (c === ']') return out;
      if (c !== ',') this.#fail('expected "," or "]"');
    }
  }

  #string(): string {
    // JSON string syntax is a subset of JavaScript's: let JSON.parse decode it once it is delimited.
    const start = this.#i;
    this.#i++;
    while (this.#i < this.text.length) {
      const c = this.text[this.#i]!;
      if (c === '\\') this.#i += 2;
      else if (c === '"') {
        this.#i++;
        try {
          return JSON.parse(this.text.slice(start, this.#i)) as string;
        } catch {
          this.#i = start;
          this.#fail('invalid string');
        }
      } else if (c < ' ') this.#fail('control character in string');
      else this.#i++;
    }
    return this.#fail('unterminated string');
  }
}
