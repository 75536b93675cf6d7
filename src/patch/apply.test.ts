import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { applyPatch, patchObject } from './apply.js';

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
});

describe('patchObject (the policy fix wording)', () => {
  it('refuses to move a value into its own child (found by the fuzz suite: the result was a cycle)', () => {
    const out = applyPatch({ spec: { a: 1 } }, [{ op: 'move', from: '', path: '/spec/self' }]);
    expect(out).toEqual({ ok: false, reason: 'cannot move "" into its own child "/spec/self"' });
    expect(applyPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]).ok).toBe(false);
    expect(applyPatch({ a: { b: 1 }, c: {} }, [{ op: 'move', from: '/a', path: '/c/a' }])).toEqual({ ok: true, value: { c: { a: { b: 1 } } } });
  });

  it('refuses a result holding a __proto__ key (found by the fuzz suite: its patch could never be replayed)', () => {
    const value = JSON.parse('{"__proto__": null}');
    const out = patchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, [{ op: 'add', path: '', value }]);
    expect(out).toEqual({ ok: false, error: expect.stringMatching(/writes a "__proto__" field, which belay never applies/) });
  });

  it('returns the fixed object and a computed patch, leaving the original alone', () => {
    const original = pod();
    const result = patchObject(original, [
      { op: 'add', path: '/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false } },
      { op: 'add', path: '/spec/securityContext', value: { runAsNonRoot: true } },
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(original).toEqual(pod());
    expect(result.object.spec).toMatchObject({
      securityContext: { runAsNonRoot: true },
      containers: [{ securityContext: { allowPrivilegeEscalation: false } }],
    });
    expect(fastJsonPatch.applyPatch(pod(), result.patch as never).newDocument).toEqual(result.object);
  });

  it('drops operations that change nothing', () => {
    const result = patchObject(pod(), [{ op: 'replace', path: '/metadata/name', value: 'p' }]);
    expect(result).toMatchObject({ ok: true, patch: [] });
  });

  it('refuses a fix whose parent is missing', () => {
    const result = patchObject(pod(), [{ op: 'add', path: '/spec/containers/0/securityContext/runAsNonRoot', value: true }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/does not apply/);
  });

  it('refuses a fix that breaks the schema', () => {
    const result = patchObject(pod(), [{ op: 'add', path: '/spec/containers/0/securityContext', value: { runAsNonRoot: 'yes' } }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/not a valid Pod: .*runAsNonRoot must be boolean/);
  });

  it('passes objects without a known schema unchecked', () => {
    const crd = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} };
    expect(patchObject(crd, [{ op: 'add', path: '/spec/size', value: 3 }])).toMatchObject({ ok: true, patch: [{ op: 'add', path: '/spec/size', value: 3 }] });
  });

  it('property: the computed patch always reproduces the fixed object', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('/') && !k.includes('~') && k !== '__proto__'),
          fc.string(),
        ),
        (labels) => {
          const fixes = Object.entries(labels).map(([k, v]) => ({ op: 'add' as const, path: `/metadata/labels/${k}`, value: v }));
          const base = { ...pod(), metadata: { name: 'p', labels: {} } };
          const result = patchObject(base, fixes);
          if (!result.ok) return false;
          return (
            JSON.stringify(fastJsonPatch.applyPatch(structuredClone(base), structuredClone(result.patch) as never).newDocument) ===
            JSON.stringify(result.object)
          );
        },
      ),
    );
  });
});
