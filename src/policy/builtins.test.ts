import { describe, expect, it } from 'vitest';
import { customBuiltins, parseBytes, parseDurationNs, parseRfc3339Ns, parseUnits, sdkBuiltinNames } from './builtins.js';

describe('time.parse_duration_ns', () => {
  it.each([
    ['0', 0n],
    ['15m', 900_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['300ms', 300_000_000n],
    ['-2s', -2_000_000_000n],
    ['1us', 1_000n],
    ['1µs', 1_000n],
    ['2h45m30.5s', 9_930_500_000_000n],
  ])('parses %s like Go', (text, ns) => {
    expect(parseDurationNs(text)).toBe(ns);
  });

  it.each(['', '15', 'm', '1d', '1h 30m', 'abc'])('refuses %j', (text) => {
    expect(() => parseDurationNs(text)).toThrow(/invalid duration/);
  });
});

describe('time.parse_rfc3339_ns', () => {
  it('keeps nanoseconds exactly', () => {
    expect(parseRfc3339Ns('2026-11-21T10:00:00.123456789Z')).toBe(1_795_255_200_123_456_789n);
  });
  it('applies the offset', () => {
    expect(parseRfc3339Ns('2026-11-21T12:00:00+02:00')).toBe(parseRfc3339Ns('2026-11-21T10:00:00Z'));
  });
  it.each(['2026-02-30T00:00:00Z', '2026-11-21 10:00:00Z', '2026-11-21T25:00:00Z', 'yesterday'])('refuses %j', (text) => {
    expect(() => parseRfc3339Ns(text)).toThrow();
  });
});

describe('units', () => {
  it.each([
    ['10', 10],
    ['1KB', 1000],
    ['1KiB', 1024],
    ['1.5KiB', 1536],
    ['2Mi', 2 * 1024 * 1024],
    ['3gb', 3e9],
  ])('parse_bytes(%j)', (text, n) => expect(parseBytes(text)).toBe(n));

  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1k', 1000],
    ['1M', 1e6],
    ['2Gi', 2 * 2 ** 30],
  ])('parse(%j)', (text, n) => expect(parseUnits(text)).toBeCloseTo(n));

  it('refuses unknown units', () => {
    expect(() => parseBytes('3 parsecs')).toThrow(/unknown unit/);
    expect(() => parseUnits('1x')).toThrow(/unknown unit/);
  });
});

describe('customBuiltins', () => {
  it('returns nanosecond values as exact JSON integers', () => {
    const b = customBuiltins(() => 1_795_255_200_123_456_789n);
    const text = new TextDecoder().decode(b['time.now_ns']!() as ArrayBuffer);
    expect(text).toBe('1795255200123456789');
  });
  it('reads the SDK table so missing built-ins can be named', () => {
    const names = sdkBuiltinNames();
    expect(names.has('sprintf')).toBe(true);
    expect(names.has('time.now_ns')).toBe(false);
  });
});
