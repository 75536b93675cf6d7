// Built-ins that Rego policies reasonably use but that neither OPA's wasm
// compiler nor the opa-wasm JS SDK implements. Each follows the semantics of
// OPA's Go implementation; an invalid argument throws, which fails the
// evaluation (and so fails closed) rather than guessing.

import { moreBuiltins } from './builtins-more.js';
import { opaSprintf } from './gofmt.js';
import { type RegoBuiltin, sdkBuiltins } from './instantiate.js';

export type CustomBuiltin = (...args: unknown[]) => unknown;

const NS_PER: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** A JSON integer the SDK passes to wasm verbatim, so nanoseconds keep every digit. */
function exactInteger(n: bigint): ArrayBuffer {
  const bytes = new TextEncoder().encode(n.toString());
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name}: operand 1 must be a string`);
  return value;
}

/** Go's time.ParseDuration: "1h30m", "-1.5h", "300ms", "0". */
export function parseDurationNs(text: string): bigint {
  if (text === '0' || text === '+0' || text === '-0') return 0n;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(text);
  if (!m) throw new Error(`time.parse_duration_ns: invalid duration ${JSON.stringify(text)}`);
  let total = 0n;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const [whole = '0', frac = ''] = part[1]!.split('.');
    const unit = NS_PER[part[2]!]!;
    total += BigInt(whole || '0') * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
  }
  return m[1] === '-' ? -total : total;
}

/** RFC 3339 with optional fractional seconds, to nanoseconds since the epoch. */
export function parseRfc3339Ns(text: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new Error(`time.parse_rfc3339_ns: invalid RFC 3339 time ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw new Error(`time.parse_rfc3339_ns: out-of-range field in ${JSON.stringify(text)}`);
  }
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  }
  const nanosFrac = BigInt(frac.padEnd(9, '0') || '0');
  return BigInt(ms - offsetMinutes * 60_000) * 1_000_000n + nanosFrac;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pi: 2 ** 50,
  pib: 2 ** 50,
  e: 1e18,
  eb: 1e18,
  ei: 2 ** 60,
  eib: 2 ** 60,
};

function splitNumberAndUnit(text: string, builtin: string): [number, string] {
  const trimmed = text.replace(/^"|"$/g, '').trim();
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)$/.exec(trimmed);
  if (!m) throw new Error(`${builtin}: could not parse ${JSON.stringify(text)}`);
  return [Number(m[1]), m[2]!];
}

/** units.parse_bytes: "10KiB" → 10240; units are case-insensitive, decimal or binary. */
export function parseBytes(text: string): number {
  const [n, unit] = splitNumberAndUnit(text, 'units.parse_bytes');
  const mult = BYTE_UNITS[unit.toLowerCase()];
  if (mult === undefined) throw new Error(`units.parse_bytes: unknown unit ${JSON.stringify(unit)}`);
  return Math.trunc(n * mult);
}

const SI_UNITS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  Ki: 2 ** 10,
  M: 1e6,
  Mi: 2 ** 20,
  G: 1e9,
  Gi: 2 ** 30,
  T: 1e12,
  Ti: 2 ** 40,
  P: 1e15,
  Pi: 2 ** 50,
  E: 1e18,
  Ei: 2 ** 60,
};

/** units.parse: "500m" → 0.5, "2Gi" → 2147483648 (case matters: m is milli, M mega). */
export function parseUnits(text: string): number {
  const [n, unit] = splitNumberAndUnit(text, 'units.parse');
  const mult = SI_UNITS[unit];
  if (mult === undefined) throw new Error(`units.parse: unknown unit ${JSON.stringify(unit)}`);
  return n * mult;
}

/** The custom built-ins handed to the SDK, by their Rego names. */
export function customBuiltins(now: () => bigint = () => BigInt(Date.now()) * 1_000_000n): Record<string, CustomBuiltin> {
  return {
    'time.now_ns': () => exactInteger(now()),
    'time.parse_rfc3339_ns': (s) => exactInteger(parseRfc3339Ns(requireString(s, 'time.parse_rfc3339_ns'))),
    'time.parse_duration_ns': (s) => exactInteger(parseDurationNs(requireString(s, 'time.parse_duration_ns'))),
    'units.parse_bytes': (s) => parseBytes(requireString(s, 'units.parse_bytes')),
    'units.parse': (s) => parseUnits(requireString(s, 'units.parse')),
    ...moreBuiltins(),
  };
}

/** Built-ins that read their arguments as Rego values (sets stay sets): OPA's sprintf, in place of the SDK's. */
export function regoBuiltins(): Record<string, RegoBuiltin> {
  return {
    sprintf: (format, values) => opaSprintf(format!, values!),
  };
}

/** Names of the built-ins the opa-wasm SDK implements in JS. */
export function sdkBuiltinNames(): ReadonlySet<string> {
  return new Set(Object.keys(sdkBuiltins()));
}
