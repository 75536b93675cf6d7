// The patch pipeline, fuzzed: any operations on any document are applied to
// a copy or refused as a value (never a throw, never a change to the
// original), the computed patch turns the original into the result, and the
// fix pipeline answers for every fix a policy could send.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision, JsonObject, PatchOperation, PolicyInput } from '../contract/index.js';
import { deploymentInput } from '../testkit/admission.js';
import { anyJson } from '../testkit/fuzz/arbitraries.js';
import { applyPatch, diff, patchObject } from './apply.js';
import { runFixPipeline } from './pipeline.js';

/** Paths in `doc` (and some that are not), as JSON pointers. */
function pointers(doc: unknown, prefix = ''): string[] {
  if (typeof doc !== 'object' || doc === null) return [prefix];
  const keys = Array.isArray(doc) ? doc.map((_, i) => String(i)) : Object.keys(doc);
  return [prefix, ...keys.flatMap((k) => pointers((doc as Record<string, unknown>)[k], `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`))];
}

const operation = (paths: string[]) =>
  fc.record({
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
    path: fc.oneof(fc.constantFrom(...paths), fc.constantFrom('', '/', '/-', '/a/b/c', '/spec/replicas', '/metadata/labels/x', 'no-slash', '/0/-')),
    from: fc.constantFrom(...paths),
    value: anyJson,
  }) as fc.Arbitrary<PatchOperation>;

const docAndOps = anyJson.chain((doc) => fc.tuple(fc.constant(doc), fc.array(operation(pointers(doc)), { maxLength: 5 })));

describe('applyPatch', () => {
  it('applies any operations to a copy or refuses them, never touching the original', () => {
    fc.assert(
      fc.property(docAndOps, ([doc, ops]) => {
        const before = JSON.stringify(doc);
        const out = applyPatch(doc, ops);
        expect(JSON.stringify(doc)).toBe(before);
        if (out.ok) expect(() => JSON.stringify(out.value)).not.toThrow();
        else expect(out.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('computes a patch that turns one object into the other; prototype keys are refused, never half-applied', () => {
    const obj = fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 5 }) as fc.Arbitrary<JsonObject>;
    const hasProto = (v: unknown): boolean => JSON.stringify(v ?? null).includes('"__proto__"');
    fc.assert(
      fc.property(obj, obj, (a, b) => {
        const out = applyPatch(a, diff(a, b));
        if (hasProto(a) || hasProto(b)) {
          // fast-json-patch will not touch __proto__ (prototype pollution): the patch is refused, or exact.
          if (!out.ok) return;
        } else expect(out.ok).toBe(true);
        expect(JSON.parse(JSON.stringify((out as { value: unknown }).value))).toEqual(JSON.parse(JSON.stringify(b)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the fix pipeline', () => {
  const input = deploymentInput({ app: 'web' });
  const deployment = input.object!;
  const allow: Decision = { decision: 'allow', reasons: [], fixes: [], redact: [], warnings: [], approval: null, mode: 'approve', wouldBe: null };

  it('answers every fix a policy could send with a schema-valid object and its patch, or says why not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation(pointers(deployment)), { minLength: 1, maxLength: 4 }), fc.boolean(), async (ops, asEdit) => {
        const before = JSON.stringify(input);
        const out = await runFixPipeline(input as PolicyInput, asEdit ? { edit: ops } : { fixes: ops }, () => allow);
        expect(JSON.stringify(input)).toBe(before);
        if (!out.ok) {
          expect(out.error.length).toBeGreaterThan(0);
          return;
        }
        expect(patchObject(deployment, out.patch).ok).toBe(true);
        const replayed = applyPatch(deployment, out.patch);
        expect(replayed.ok).toBe(true);
        expect((replayed as { value: unknown }).value).toEqual(out.object);
      }),
      { numRuns: 300 },
    );
  });
});
