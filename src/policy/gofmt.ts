// OPA's sprintf, exactly: OPA hands each argument to Go's fmt.Sprintf as an
// int64 (an integer that fits), a *big.Int (a larger integer), a float64
// (any other number), a string (a string), or the Rego text of anything
// else (`["a", "b"]`, `{"a": 1}`, `{"x", "y"}`, `set()`, `true`, `null`,
// keys and set members sorted as OPA sorts them). Go's fmt then formats:
// %v and %s of composites print that text, a verb that does not fit its
// argument prints `%!d(string=…)`, a missing argument `%!v(MISSING)`, and
// extra arguments `%!(EXTRA int64=2, …)`.
//
// The arguments arrive as Rego values (rego-value.ts), so sets stay sets.

import { compareRego, type RegoValue, renderRego } from './rego-value.js';

type GoArg = { t: 'int64'; v: bigint } | { t: 'bigint'; v: bigint } | { t: 'float64'; v: number } | { t: 'string'; v: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The Go value OPA passes to fmt for one Rego argument. */
export function goArg(value: RegoValue): GoArg {
  switch (value.t) {
    case 'number': {
      const text = value.text;
      if (/^-?\d+$/.test(text)) {
        const n = BigInt(text);
        return n >= INT64_MIN && n <= INT64_MAX ? { t: 'int64', v: n } : { t: 'bigint', v: n };
      }
      const f = Number(text);
      return Number.isNaN(f) ? { t: 'string', v: text } : { t: 'float64', v: f };
    }
    case 'string':
      return { t: 'string', v: value.v };
    default:
      return { t: 'string', v: renderRego(value) };
  }
}

interface Spec {
  minus: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  sharp: boolean;
  width: number | null;
  prec: number | null;
  verb: string;
}

function typeName(a: GoArg): string {
  return a.t === 'bigint' ? '*big.Int' : a.t;
}

function valueText(a: GoArg): string {
  switch (a.t) {
    case 'int64':
    case 'bigint':
      return a.v.toString();
    case 'float64':
      return formatFloat(a.v, 'g', -1);
    case 'string':
      return a.v;
  }
}

/** Go's badVerb: the value printed as %v with the verb's own flags, width and precision. */
function bad(spec: Spec, a: GoArg): string {
  return `%!${spec.verb}(${typeName(a)}=${formatOne({ ...spec, verb: 'v' }, a)})`;
}

/** Go's strconv.Quote: printable runes kept, the rest escaped. */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((asciiOnly && c > 0x7e) || !isPrint(c)) {
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Close to Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
function isPrint(c: number): boolean {
  if (c < 0x80) return c >= 0x20 && c < 0x7f;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(c));
}

/** strconv.FormatFloat for the verbs fmt uses (e, E, f, F, g, G), prec -1 = shortest. */
export function formatFloat(f: number, verb: string, prec: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  const lower = verb.toLowerCase();
  if (lower === 'f') return prec < 0 ? shortestFixed(f) : f.toFixed(prec);
  if (lower === 'e') {
    const s = prec < 0 ? f.toExponential() : f.toExponential(prec);
    return goExponent(s, verb === 'E');
  }
  // %g (strconv): significant digits (shortest, or prec); the exponent form when
  // exp < -4 || exp >= eprec, where eprec is 6 for the shortest form; never trailing zeros.
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const shortest = prec < 0;
  const p = shortest ? shortestDigits(f) : Math.max(1, prec);
  const rounded = f.toExponential(p - 1);
  const exp = Number(rounded.split('e')[1]);
  const nd = rounded.split('e')[0]!.replace(/[-.]/g, '').replace(/0+$/, '').length || 1;
  let eprec = shortest ? 6 : p;
  if (!shortest && eprec > nd && nd >= exp + 1) eprec = nd;
  if (exp < -4 || exp >= eprec) return goExponent(trimZerosExp(rounded), verb === 'G');
  return trimZeros(f.toFixed(Math.max(0, p - 1 - exp)));
}

function shortestDigits(f: number): number {
  const m = /^-?(\d)(?:\.(\d+))?e/.exec(Math.abs(f).toExponential());
  return m ? 1 + (m[2]?.length ?? 0) : 1;
}

function shortestFixed(f: number): string {
  const s = String(f);
  if (!/e/.test(s)) return s;
  // Expand JS's exponent form into plain digits, as Go's %f with shortest precision does.
  const [mant, e] = s.split('e') as [string, string];
  const exp = Number(e);
  const neg = mant.startsWith('-');
  const [int, frac = ''] = mant.replace('-', '').split('.') as [string, string?];
  const digits = int + frac;
  const point = int.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (neg ? '-' : '') + out;
}

function goExponent(s: string, upper: boolean): string {
  // JS "1.5e+21" / "1e-7" → Go "1.5e+21" / "1e-07" (at least two exponent digits).
  const m = /^(.*)e([+-])(\d+)$/.exec(s);
  if (!m) return s;
  const out = `${m[1]}e${m[2]}${m[3]!.padStart(2, '0')}`;
  return upper ? out.toUpperCase() : out;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function trimZerosExp(s: string): string {
  const [m, e] = s.split('e') as [string, string];
  return `${trimZeros(m)}e${e}`;
}

function pad(s: string, spec: Spec, numeric = false): string {
  if (spec.width === null || [...s].length >= spec.width) return s;
  const fill = spec.width - [...s].length;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s.slice(0, 1) : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  if (spec.zero && !numeric) return '0'.repeat(fill) + s;
  return ' '.repeat(fill) + s;
}

function sign(n: bigint | number, spec: Spec): string {
  const neg = typeof n === 'bigint' ? n < 0n : n < 0 || Object.is(n, -0);
  return neg ? '' : spec.plus ? '+' : spec.space ? ' ' : '';
}

/** Go's fmtSbx: hex of the bytes; # adds 0x once (before each byte with the space flag). */
function hexOfString(s: string, upper: boolean, spec: Spec): string {
  const parts = [...Buffer.from(s, 'utf8')].map((b) => b.toString(16).padStart(2, '0'));
  const prefix = spec.sharp ? '0x' : '';
  const out = spec.space ? parts.map((p) => prefix + p).join(' ') : prefix + parts.join('');
  return upper ? out.toUpperCase() : out;
}

function formatInt(n: bigint, spec: Spec): string | null {
  const abs = n < 0n ? -n : n;
  let digits: string;
  switch (spec.verb) {
    case 'v':
    case 'd':
      digits = abs.toString(10);
      break;
    case 'b':
      digits = abs.toString(2);
      break;
    case 'o':
      digits = (spec.sharp ? '0' : '') + abs.toString(8);
      break;
    case 'O':
      digits = `0o${abs.toString(8)}`;
      break;
    case 'x':
      digits = (spec.sharp ? '0x' : '') + abs.toString(16);
      break;
    case 'X':
      digits = (spec.sharp ? '0X' : '') + abs.toString(16).toUpperCase();
      break;
    case 'c':
      return String.fromCodePoint(Number(n));
    case 'q':
      return goQuote(String.fromCodePoint(Number(n))).replace(/^"|"$/g, "'");
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      return null;
    default:
      return null;
  }
  if (spec.prec !== null) digits = digits.padStart(spec.prec, '0');
  return pad((n < 0n ? '-' : sign(n, spec)) + digits, { ...spec, zero: spec.zero && spec.prec === null && !spec.minus }, true);
}

function formatOne(spec: Spec, a: GoArg): string {
  const v = spec.verb;
  if (v === 'T') return pad(typeName(a), spec);
  switch (a.t) {
    case 'string': {
      let s = a.v;
      if (v === 'v' || v === 's') {
        if (spec.prec !== null) s = [...s].slice(0, spec.prec).join('');
        return pad(s, spec);
      }
      if (v === 'q')
        return pad(spec.sharp && !s.includes('`') ? `\`${s}\`` : goQuote(spec.prec !== null ? [...s].slice(0, spec.prec).join('') : s, spec.plus), spec);
      if (v === 'x' || v === 'X') return pad(hexOfString(s, v === 'X', spec), spec);
      return bad(spec, a);
    }
    case 'int64':
    case 'bigint': {
      if (a.t === 'bigint' && (v === 'c' || v === 'q')) return bad(spec, a);
      const s = formatInt(a.v, spec);
      return s === null ? bad(spec, a) : s;
    }
    case 'float64': {
      const f = a.v;
      let verb = v;
      if (verb === 'v') verb = 'g';
      if (!['e', 'E', 'f', 'F', 'g', 'G'].includes(verb)) {
        return bad(spec, a);
      }
      const prec = spec.prec ?? (verb === 'g' || verb === 'G' ? -1 : 6);
      const body = formatFloat(Math.abs(f), verb, prec);
      const neg = f < 0 || Object.is(f, -0);
      const s = (neg ? '-' : sign(f, spec)) + body;
      return pad(s, spec, Number.isFinite(f));
    }
  }
}

/** Go's fmt.Sprintf over the Go values OPA would pass. */
export function goSprintf(format: string, args: readonly GoArg[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const spec: Spec = { minus: false, plus: false, space: false, zero: false, sharp: false, width: null, prec: null, verb: '' };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else if (c === '#') spec.sharp = true;
      else break;
    }
    const num = (): number | null => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        if (a && a.t === 'int64') return Number(a.v);
        out += '%!(BADWIDTH)';
        return null;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return null;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (spec.width !== null && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === '.') {
      i++;
      spec.prec = num() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    spec.verb = verb;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const a = args[argi];
    if (a === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    argi++;
    out += formatOne(spec, a);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${typeName(a)}=${valueText(a)}`)
      .join(', ')})`;
  }
  return out;
}

/** OPA's sprintf(format, values) over Rego values: what the `sprintf` built-in returns. */
export function opaSprintf(format: RegoValue, values: RegoValue): string {
  if (format.t !== 'string') throw new TypeError(`sprintf: operand 1 must be string but got ${format.t}`);
  if (values.t !== 'array') throw new TypeError(`sprintf: operand 2 must be array but got ${values.t}`);
  return goSprintf(format.v, values.v.map(goArg));
}

export { compareRego };
