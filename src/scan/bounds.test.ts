// Bad input for the scanner: MB-sized logs, binary and invalid UTF-16,
// thousands of matches, inputs built to make a backtracking pattern blow up,
// and a deadline that passes. Every scan must end, in bounded time, with a
// status the caller can fail closed on, and spans must stay exact.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BelayError } from '../errors.js';
import { redactContent } from '../redact/content.js';
import { REDACTED, redactSpans, scan, scanText } from './index.js';

const GH = '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';
const LOG_LINE =
  '2026-11-02T09:15:41.305Z INFO  request_id=9f1b7c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e GET /api/v1/namespaces/shop/pods 200 1.2ms user=system:serviceaccount:shop:web\n';

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('large input', () => {
  it('scans a 4 MiB log with secrets sprinkled in, finding every one, in a few seconds at most', () => {
    const lines: string[] = [];
    let size = 0;
    let planted = 0;
    while (size < 4 * 1024 * 1024) {
      const line = lines.length % 500 === 0 ? `2026-11-02 WARN using token ${GH}\n` : LOG_LINE;
      if (line !== LOG_LINE) planted++;
      lines.push(line);
      size += line.length;
    }
    const text = lines.join('');
    const { value: r, ms } = timed(() => scan(text, { timeoutMs: 15_000 }));
    console.log(`4 MiB log: ${ms.toFixed(0)} ms, ${r.findings.length} findings`);
    expect(r.status).toBe('ok');
    expect(r.findings.filter((f) => f.rule === 'belay/github-token')).toHaveLength(planted);
    expect(ms).toBeLessThan(8000);
  });

  it('refuses text over the limit without scanning it', () => {
    const r = scan('x'.repeat(101), { maxLength: 100 });
    expect(r).toMatchObject({ status: 'too-large', findings: [] });
  });

  it('returns a typed timeout (with what it found so far) when the deadline passes', () => {
    const text = `${LOG_LINE.repeat(40_000)}password=${'Zx9'.repeat(5)}\n`;
    const r = scan(text, { timeoutMs: 1 });
    expect(r.status).toBe('timeout');
    expect(r.message).toMatch(/deadline/);
    const past = scan('token: x9Kq2LmZ8vR4tW1pN7sY3bH6', { deadline: performance.now() - 1 });
    expect(past.status).toBe('timeout');
  });

  it('the legacy scanText fails closed: payload_too_large over the limit, evaluation_failed on timeout', async () => {
    await expect(scanText('x'.repeat(11), { maxLength: 10 })).rejects.toSatisfy((e: unknown) => e instanceof BelayError && e.code === 'payload_too_large');
    await expect(scanText(LOG_LINE.repeat(40_000), { timeoutMs: 1 })).rejects.toSatisfy(
      (e: unknown) => e instanceof BelayError && e.code === 'evaluation_failed',
    );
  });

  it('handles ten thousand secrets in one text', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `line ${i} token ${GH}`).join('\n');
    const { value: r, ms } = timed(() => scan(text));
    console.log(`10 000 secrets: ${ms.toFixed(0)} ms`);
    expect(r.status).toBe('ok');
    expect(r.findings).toHaveLength(10_000);
    expect(redactSpans(text, r.findings)).not.toContain('ghp_');
  });

  it('stops at the findings cap with a typed status', () => {
    const text = Array.from({ length: 300 }, () => `token ${GH}`).join('\n');
    expect(scan(text, { maxFindings: 100 })).toMatchObject({ status: 'too-many-findings' });
  });
});

describe('adversarial input does not make a pattern backtrack', () => {
  // Each is about 1 MiB of what one detector's pattern starts on, never completed.
  const cases: [string, string][] = [
    ['letters', 'a'.repeat(1 << 20)],
    ['base64 run', 'Ab9+'.repeat(1 << 18)],
    ['stripe prefix, no end', `sk_live_${'A'.repeat(1 << 20)}`],
    ['JWT without a third part', `eyJ${'a'.repeat(1 << 19)}.eyJ${'b'.repeat(1 << 19)}`],
    ['PEM BEGIN without END', '-----BEGIN RSA PRIVATE KEY-----\n'.repeat(1 << 15)],
    ['many key assignments', 'password='.repeat(1 << 17)],
    ['many colons', ':'.repeat(1 << 20)],
    ['URL userinfo without host', `https://${'u:p'.repeat(1 << 18)}`],
    ['pgpass-like line', `${'h:5432:db:u:'.repeat(1 << 16)}`],
    ['nested JSON opens', '{"a":'.repeat(1 << 17)],
    ['open arrays', '['.repeat(1 << 20)],
    ['YAML dashes', '- '.repeat(1 << 19)],
    ['YAML deep indentation', Array.from({ length: 4096 }, (_, i) => `${' '.repeat(i % 512)}k${i}:`).join('\n')],
    ['quotes after keys', '"token": "'.repeat(1 << 16)],
    ['base64 PEM prefix', `LS0tLS1CRUdJTi${'A'.repeat(1 << 20)}`],
    ['bootstrap-like tokens', 'token abcdef.0123456789abcdef0'.repeat(1 << 15)],
    ['hex', '0123456789abcdef'.repeat(1 << 16)],
  ];
  for (const [name, text] of cases) {
    it(`${name} (${(text.length / 1024).toFixed(0)} Ki)`, () => {
      const { value: r, ms } = timed(() => scan(text, { timeoutMs: 10_000 }));
      expect(r.status).toBe('ok');
      // Linear inputs take 0.02–2.3 s per MiB here (2 shared cores); catastrophic backtracking would take minutes.
      expect(ms).toBeLessThan(8000);
    });
  }
});

describe('binary and odd text', () => {
  it('scans random bytes decoded as UTF-8 (replacement characters) and as Latin-1', () => {
    const bytes = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24));
    for (const text of [bytes.toString('utf8'), bytes.toString('latin1')]) {
      const r = scan(`${text}\ntoken ${GH}\n${text}`);
      expect(r.status).toBe('ok');
      expect(r.findings.some((f) => f.rule === 'belay/github-token')).toBe(true);
    }
  });

  it('reports exact UTF-16 offsets after astral characters, lone surrogates and NULs', () => {
    const noise = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '😀', '\uD800', '\u0000', 'é', '\uFFFD', ':', '=', '"'), maxLength: 200 });
    fc.assert(
      fc.property(noise, noise, (before, after) => {
        const text = `${before} ${GH} ${after}`;
        const f = scan(text).findings.find((x) => x.rule === 'belay/github-token');
        expect(f).toBeDefined();
        expect(text.slice(f!.start, f!.end)).toBe(GH);
        expect(redactSpans(text, [f!])).toBe(`${before} ${REDACTED} ${after}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('structured content', () => {
  it('deeply nested JSON is reported too deep and no value is returned', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"${GH}"${']'.repeat(100_000)}`);
    const r = redactContent(deep);
    expect(r).toMatchObject({ status: 'too-deep', value: null });
    const asText = redactContent(`${'['.repeat(100_000)}"${GH}"${']'.repeat(100_000)}`);
    expect(asText).toMatchObject({ status: 'too-deep', value: null });
  });

  it('a YAML alias bomb is read as text, not expanded', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 9 }, (_, i) => {
        const [p, c] = [String.fromCharCode(97 + i), String.fromCharCode(98 + i)];
        return `${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]`;
      }),
      `token: ${GH}`,
    ].join('\n');
    const { value: r, ms } = timed(() => redactContent(bomb));
    expect(r.status).toBe('ok');
    expect(r.format).toBe('text');
    expect(r.value).not.toContain(GH);
    expect(ms).toBeLessThan(2000);
  });

  it('a JSON value with a million strings times out as a whole, not string by string', () => {
    const big = { items: Array.from({ length: 200_000 }, (_, i) => ({ name: `item-${i}`, note: `value number ${i} is fine` })) };
    const r = redactContent(big, { timeoutMs: 5 });
    expect(r).toMatchObject({ status: 'timeout', value: null });
  });
});
