// Rego values as the wasm module dumps them with opa_value_dump (JSON, except
// that sets are `{a, b}` / `set()` and object keys may be any value), and as
// OPA prints them (ast.Value String(): `["a", "b"]`, `{"a": 1}`, `{"x", "y"}`,
// strings quoted as Go's strconv.Quote, object keys and set members in OPA's
// sort order). Built-ins that must tell a set from an array (sprintf) read
// their arguments this way; see instantiate.ts.

import { goQuote } from './gofmt.js';

export type RegoValue =
  | { t: 'null' }
  | { t: 'boolean'; v: boolean }
  | { t: 'number'; text: string }
  | { t: 'string'; v: string }
  | { t: 'array'; v: RegoValue[] }
  | { t: 'object'; v: [RegoValue, RegoValue][] }
  | { t: 'set'; v: RegoValue[] };

const ORDER: Record<RegoValue['t'], number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** OPA's ast.Compare. */
export function compareRego(a: RegoValue, b: RegoValue): number {
  if (a.t !== b.t) return ORDER[a.t] - ORDER[b.t];
  switch (a.t) {
    case 'null':
      return 0;
    case 'boolean':
      return Number(a.v) - Number((b as typeof a).v);
    case 'number': {
      const x = Number(a.text);
      const y = Number((b as typeof a).text);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'string': {
      const y = (b as typeof a).v;
      return a.v < y ? -1 : a.v > y ? 1 : 0;
    }
    case 'array':
    case 'set': {
      const x = a.t === 'set' ? sorted(a.v) : a.v;
      const y = a.t === 'set' ? sorted((b as typeof a).v) : (b as typeof a).v;
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareRego(x[i]!, y[i]!);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      const x = sortedEntries(a.v);
      const y = sortedEntries((b as typeof a).v);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const k = compareRego(x[i]![0], y[i]![0]);
        if (k !== 0) return k;
        const v = compareRego(x[i]![1], y[i]![1]);
        if (v !== 0) return v;
      }
      return x.length - y.length;
    }
  }
}

function sorted(vs: RegoValue[]): RegoValue[] {
  return [...vs].sort(compareRego);
}

function sortedEntries(es: [RegoValue, RegoValue][]): [RegoValue, RegoValue][] {
  return [...es].sort((p, q) => compareRego(p[0], q[0]));
}

/** OPA's text for a value (ast.Value's String()). */
export function renderRego(value: RegoValue): string {
  switch (value.t) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(value.v);
    case 'number':
      return value.text;
    case 'string':
      return goQuote(value.v);
    case 'array':
      return `[${value.v.map(renderRego).join(', ')}]`;
    case 'object':
      return `{${sortedEntries(value.v)
        .map(([k, v]) => `${renderRego(k)}: ${renderRego(v)}`)
        .join(', ')}}`;
    case 'set':
      return value.v.length === 0 ? 'set()' : `{${sorted(value.v).map(renderRego).join(', ')}}`;
  }
}

/** Reads opa_value_dump's text. */
export function parseRegoValue(text: string): RegoValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`cannot read Rego value at ${i}: ${what}`);
  };
  const value = (): RegoValue => {
    ws();
    const c = text[i];
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      return { t: 'string', v: JSON.parse(text.slice(start, i)) as string };
    }
    if (c === '[') {
      i++;
      const items: RegoValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'array', v: items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return { t: 'array', v: items };
        } else fail('expected , or ]');
      }
    }
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return { t: 'object', v: [] };
      }
      const first = value();
      ws();
      if (text[i] === ':') {
        const entries: [RegoValue, RegoValue][] = [];
        let key = first;
        for (;;) {
          ws();
          if (text[i] !== ':') fail('expected :');
          i++;
          entries.push([key, value()]);
          ws();
          if (text[i] === ',') {
            i++;
            key = value();
          } else if (text[i] === '}') {
            i++;
            return { t: 'object', v: entries };
          } else fail('expected , or }');
        }
      }
      const members = [first];
      for (;;) {
        ws();
        if (text[i] === ',') {
          i++;
          members.push(value());
        } else if (text[i] === '}') {
          i++;
          return { t: 'set', v: members };
        } else fail('expected , or }');
      }
    }
    if (text.startsWith('set()', i)) {
      i += 5;
      return { t: 'set', v: [] };
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return { t: 'null' };
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return { t: 'boolean', v: true };
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return { t: 'boolean', v: false };
    }
    const m = /^-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return { t: 'number', text: m[0] };
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}
