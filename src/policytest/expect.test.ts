import { describe, expect, it } from 'vitest';
import { checkExpectation, type Observed, subsetDiff } from './expect.js';

const seen = (over: Partial<Observed> = {}): Observed => ({
  decision: 'allow',
  evaluated: true,
  reasons: [],
  rules: [],
  message: null,
  patch: [],
  patched: null,
  warnings: [],
  mode: null,
  wouldBe: null,
  redact: [],
  ...over,
});

describe('subsetDiff', () => {
  it('names every differing path with expected and actual values', () => {
    const actual = { spec: { securityContext: { runAsNonRoot: false }, containers: [{ name: 'a', image: 'x' }] } };
    expect(subsetDiff({ spec: { securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [{ name: 'a' }] } }, actual)).toEqual([
      'spec.securityContext.runAsNonRoot: expected true, got false',
      'spec.securityContext.runAsUser: expected 1000, got (absent)',
    ]);
  });

  it('matches lists item by item and by length, and scalars strictly', () => {
    expect(subsetDiff({ a: [{ x: 1 }, { x: 2 }] }, { a: [{ x: 1, y: 0 }] })).toEqual(['a: expected 2 items, got 1: [{"x":1,"y":0}]']);
    expect(subsetDiff({ a: '1000' }, { a: 1000 })).toEqual(['a: expected "1000", got 1000']);
    expect(subsetDiff({ a: { b: 1 } }, { a: 'flat' })).toEqual(['a: expected a mapping {"b":1}, got "flat"']);
    expect(subsetDiff({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toEqual([]);
  });
});

describe('checkExpectation', () => {
  it('passes when everything asked for is there', () => {
    const o = seen({
      reasons: [{ rule: 'r1', message: 'no root here', severity: 'high' }],
      rules: ['r1', 'r2'],
      warnings: ['belay fixed: x'],
      mode: 'approve',
      patch: [{ op: 'add', path: '/a', value: 1 }],
      patched: { a: 1 },
    });
    expect(
      checkExpectation(
        { decision: 'allow', rules: ['r2'], notRules: ['r3'], message: 'no root', warnings: ['^belay fixed'], mode: 'approve', patched: { a: 1 }, fixed: true },
        o,
      ),
    ).toEqual([]);
  });

  it('explains a decision mismatch with the message and reasons seen', () => {
    const o = seen({ decision: 'deny', message: 'refused', reasons: [{ rule: 'pss.x', message: 'bad pod', severity: 'high' }], rules: ['pss.x'] });
    expect(checkExpectation({ decision: 'allow' }, o)).toEqual([
      { field: 'decision', expected: 'allow', actual: 'deny', detail: ['message: refused', 'reason pss.x (high): bad pod'] },
    ]);
  });

  it('reports each broken expectation on its own', () => {
    const o = seen({ rules: ['a'], reasons: [{ rule: 'a', message: 'm', severity: 'low' }] });
    const fields = checkExpectation(
      {
        decision: 'allow',
        rules: ['b'],
        notRules: ['a'],
        message: 'zzz',
        fixed: true,
        patched: { x: 1 },
        warnings: ['w'],
        mode: 'observe',
        wouldBe: 'deny',
        redact: ['/p'],
      },
      o,
    ).map((m) => m.field);
    expect(fields).toEqual(['rules', 'notRules', 'message', 'fixed', 'patched', 'warnings', 'mode', 'wouldBe', 'redact']);
  });

  it('never lets an evaluation error match an expectation', () => {
    expect(checkExpectation({ decision: 'deny' }, seen({ decision: 'error', error: 'boom' }))).toEqual([
      { field: 'decision', expected: 'deny', actual: 'error', detail: ['boom'] },
    ]);
  });
});
