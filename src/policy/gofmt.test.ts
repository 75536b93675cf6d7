// sprintf through belay's wasm dispatch against `opa eval` (the pinned OPA)
// on the same calls: composites (sets, objects, nested), numbers, every verb
// family, widths and precisions, bad verbs, missing and extra arguments.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArchive } from '../bundle/archive.js';
import { findOpa } from '../policytest/opa.js';
import { customBuiltins, regoBuiltins } from './builtins.js';
import { formatFloat, goQuote } from './gofmt.js';
import { instantiatePolicy } from './instantiate.js';

const CALLS: [string, string][] = [
  ['%v', '[{"b": 1, "a": [1, 2.5, "x"]}]'],
  ['%v|%s', '[{"z", "a"}, {"z", "a"}]'],
  ['%v %v %v', '[set(), [], {}]'],
  ['%v', '[null]'],
  ['%v %v', '[true, false]'],
  ['%d', '["s"]'],
  ['%q', '[["q", "r"]]'],
  ['%q', '["tab\\there \\"quoted\\" é \\u0001"]'],
  ['%5.1f|%x|%X|%o|%b', '[3.14159, 255, 255, 8, 5]'],
  ['%v %v %v %v', '[1.0, 1e21, 0.1, 123456789.5]'],
  ['%v %v %v', '[100000.5, 1234567.0, 0.00001234]'],
  ['%g %G %e %E %.2e', '[0.000012345, 1e30, 1234.5678, 0.5, 123456]'],
  ['%v %v %s %d', '[1]'],
  ['%v', '[1, 2]'],
  ['%s', '["a", "b", "c"]'],
  ['%-6s|%6v|%06d|%+d|% d|%t', '["ab", "cd", 12, 5, 7, true]'],
  ['%.3s|%.10v|%8.3f|%-8.2f|', '["abcdef", {"k": "value"}, 2.5, -1.25]'],
  ['%x|%X|% x|%#x', '["hi", "hi", "hi", "hi"]'],
  ['%d %d', '[12345678901234567890, -42]'],
  ['%v', '[{"nested": {"s": {"b", "a"}, "arr": [{"y": 1, "x": 2}]}}]'],
  ['%v', '[{1: "one", "k": true}]'],
  ['100%% %v', '["done"]'],
  ['%', '[]'],
  ['%!', '[1]'],
  ['%c|%q', '[65, 66]'],
  ['%.2f%%', '[99.5]'],
  ['%v', '["ünïcödé ☃ \\u00e9"]'],
];

const opa = findOpa(path.resolve(import.meta.dirname, '../..'));
const work = mkdtempSync(path.join(tmpdir(), 'belay-sprintf-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function module(): string {
  // Each call is evaluated at run time (it depends on input), never folded by the compiler.
  const rows = CALLS.map(([f, args]) => `\t[${JSON.stringify(f)}, sprintf(${JSON.stringify(f)}, ${args})],`).join('\n');
  return `package fmtprobe\n\nimport rego.v1\n\nout := [\n${rows}\n] if input.go\n`;
}

describe('sprintf like OPA', () => {
  it('formats every call as opa eval does', async () => {
    const file = path.join(work, 'fmtprobe.rego');
    writeFileSync(file, module());
    const expected = JSON.parse(
      execFileSync(opa, ['eval', '--format', 'raw', '-d', file, '-I', 'data.fmtprobe.out'], { input: '{"go": true}', encoding: 'utf8' }),
    ) as [string, string][];
    const out = path.join(work, 'b.tar.gz');
    execFileSync(opa, ['build', '-t', 'wasm', '-e', 'fmtprobe/out', '-o', out, file], { stdio: 'pipe' });
    const wasm = (await readArchive(readFileSync(out))).get('/policy.wasm')!;
    const policy = await instantiatePolicy(wasm, { initial: 16 }, { json: customBuiltins(), rego: regoBuiltins() });
    policy.setData({});
    const got = (policy.evaluate({ go: true }) as { result: [string, string][] }[])[0]!.result;
    expect(got.length).toBe(CALLS.length);
    for (let i = 0; i < CALLS.length; i++) expect({ call: CALLS[i], out: got[i]![1] }).toEqual({ call: CALLS[i], out: expected[i]![1] });
  }, 120_000);

  it('quotes like strconv.Quote and formats floats like strconv', () => {
    expect(goQuote('a"b\n\u0001é')).toBe('"a\\"b\\n\\x01é"');
    expect(formatFloat(1e21, 'g', -1)).toBe('1e+21');
    expect(formatFloat(100000.5, 'g', -1)).toBe('100000.5');
    expect(formatFloat(1234567, 'g', -1)).toBe('1.234567e+06');
    expect(formatFloat(0.0001, 'g', -1)).toBe('0.0001');
    expect(formatFloat(0.00001, 'g', -1)).toBe('1e-05');
  });
});
