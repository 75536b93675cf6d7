// The shape scan agrees with the parsed value it stands in front of, however
// the bytes are cut into chunks, and stops at each limit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonShape, DEFAULT_JSON_SHAPE, type JsonShapeLimits, JsonShapeScanner } from './json-shape.js';

/** Containers, members and depth of a parsed value: what the scan must count from the bytes. */
function shapeOf(v: unknown, depth = 0): { containers: number; members: number; depth: number } {
  if (typeof v !== 'object' || v === null) return { containers: 0, members: 0, depth };
  const children = Array.isArray(v) ? v : Object.values(v as object);
  let out = { containers: 1, members: children.length, depth: depth + 1 };
  for (const c of children) {
    const s = shapeOf(c, depth + 1);
    out = { containers: out.containers + s.containers, members: out.members + s.members, depth: Math.max(out.depth, s.depth) };
  }
  return out;
}

function scanChunks(bytes: Buffer, cuts: number[], limits: JsonShapeLimits = DEFAULT_JSON_SHAPE): JsonShapeScanner {
  const scanner = new JsonShapeScanner(limits);
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
    scanner.push(bytes.subarray(from, cut));
    from = cut;
  }
  scanner.push(bytes.subarray(from));
  return scanner;
}

// Strings full of the characters that matter to the scan: quotes, backslashes, brackets, commas.
const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', 'a', 'é', '\u2028', ' ') });
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    tricky,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(tricky, tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('JsonShapeScanner', () => {
  it('keeps an escape pending across an empty chunk (a string holding "}\\"[" split after its backslash)', () => {
    const scanner = new JsonShapeScanner(DEFAULT_JSON_SHAPE);
    const bytes = Buffer.from(JSON.stringify('}"['));
    for (const part of [bytes.subarray(0, 3), bytes.subarray(3, 3), bytes.subarray(3)]) scanner.push(part);
    expect(scanner.counts).toEqual({ containers: 0, members: 0 });
  });

  it('counts what JSON.parse builds, however the bytes are chunked', () => {
    fc.assert(
      fc.property(json, fc.array(fc.nat(4096), { maxLength: 8 }), fc.boolean(), (value, cuts, pretty) => {
        const bytes = Buffer.from(JSON.stringify(value, null, pretty ? 2 : 0));
        const expected = shapeOf(JSON.parse(bytes.toString()));
        const scanner = scanChunks(bytes, cuts);
        expect(scanner.counts).toEqual({ containers: expected.containers, members: expected.members });
      }),
      { numRuns: 400 },
    );
  });

  it('refuses nesting past the limit and nothing at it', () => {
    const limits = { ...DEFAULT_JSON_SHAPE, maxDepth: 8 };
    expect(() => checkJsonShape(`${'['.repeat(8)}${']'.repeat(8)}`, limits)).not.toThrow();
    expect(() => checkJsonShape(`${'['.repeat(9)}${']'.repeat(9)}`, limits)).toThrow(/nests deeper than 8 levels/);
    expect(() => checkJsonShape(`${'{"a":'.repeat(9)}1${'}'.repeat(9)}`, limits)).toThrow(/nests deeper than 8/);
    // Brackets inside strings are text, escaped quotes included.
    expect(() => checkJsonShape(JSON.stringify({ a: '[[[[[[[[[[[[', b: '"\\"[[[[[[[[[[[' }), limits)).not.toThrow();
    // The default: 512.
    expect(() => checkJsonShape(`${'['.repeat(512)}${']'.repeat(512)}`)).not.toThrow();
    expect(() => checkJsonShape(`${'['.repeat(513)}${']'.repeat(513)}`)).toThrow(/deeper than 512/);
  });

  it('refuses too many containers, members, or members of one container', () => {
    const limits: JsonShapeLimits = { maxDepth: 10, maxContainers: 3, maxMembers: 5, maxContainerMembers: 4 };
    expect(() => checkJsonShape('[[],[]]', limits)).not.toThrow();
    expect(() => checkJsonShape('[[],[],[]]', limits)).toThrow(/more than 3 objects and arrays/);
    expect(() => checkJsonShape('[1,2,3,4]', limits)).not.toThrow();
    expect(() => checkJsonShape('[1,2,3,4,5]', limits)).toThrow(/more than 4 members/);
    expect(() => checkJsonShape('{"a":1,"b":2,"c":3,"d":4,"e":5}', limits)).toThrow(/more than 4 members/);
    expect(() => checkJsonShape('[[1,2,3],[4,5,6]]', limits)).toThrow(/more than 5 object keys and array elements/);
  });

  it('keeps the escape state across a chunk boundary inside a string', () => {
    // "a\" then "]]]]" : the quote after the cut is escaped, so the brackets are text.
    const text = Buffer.from('["a\\"]]]]]]]]]]]]]]]]", 1]');
    for (let cut = 1; cut < text.length; cut++) {
      const s = scanChunks(text, [cut], { ...DEFAULT_JSON_SHAPE, maxDepth: 2 });
      expect(s.counts).toEqual({ containers: 1, members: 2 });
    }
  });
});
