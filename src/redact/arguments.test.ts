// A tool call's arguments at rest and an approver's edit of their redacted
// view: objects, YAML manifests passed as text and plain strings are stored
// redacted with a digest of them as sent; an edit keeps the agent's values
// where it left them as shown.

import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../contract/index.js';
import { canonicalDigest, REDACTED, restoreRedacted, sameArguments, storedToolCall } from './index.js';

const PASS = 'Harbor4821!kube';
const GH = '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';
const MANIFEST = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: ${PASS}\n`;

const args: JsonObject = {
  namespace: 'shop',
  resource: MANIFEST,
  object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { token: Buffer.from(GH).toString('base64') } },
  password: PASS,
  command: `git clone https://x:${GH}@github.com/acme/app`,
};

describe('storedToolCall', () => {
  it('keeps the arguments redacted (objects, YAML text, plain strings), a digest of them as sent, and what was hidden', () => {
    const tool = { name: 'resources_create_or_update', arguments: args, target: { verb: 'create', kind: 'Secret', namespace: 'shop' } };
    const stored = storedToolCall(tool);
    const text = JSON.stringify(stored);
    for (const secret of [PASS, GH, Buffer.from(GH).toString('base64')]) expect(text).not.toContain(secret);
    expect(stored).toMatchObject({ name: tool.name, target: tool.target, argumentsDigest: canonicalDigest(args) });
    const a = stored.arguments!;
    expect(a.namespace).toBe('shop');
    expect(a.password).toBe(REDACTED);
    expect(a.command).toBe(`git clone https://x:${REDACTED}@github.com/acme/app`);
    expect((a.object as JsonObject).data).toEqual({ token: REDACTED });
    expect(a.resource as string).toContain('kind: Secret');
    expect(a.resource as string).toContain(REDACTED);
    const pointers = (stored.redactions as { pointer: string; kind: string; rule: string }[]).map((r) => r.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/password', '/command', '/object/data/token', '/resource']));
    // The policy input's findings are not stored (redactions, capped, say the same).
    expect(storedToolCall({ ...tool, findings: [{ pointer: '/password' }], scanStatus: 'ok' })).toEqual(stored);
    // Stored once, stored for good: showing a stored call does not change it.
    expect(storedToolCall(stored)).toEqual(stored);
  });

  it('arguments over the cap keep a redacted excerpt; arguments it cannot scan keep only the digest', () => {
    const big = { password: PASS, items: Array.from({ length: 400 }, (_, i) => `item-${i} ${'x'.repeat(40)}`) };
    const capped = storedToolCall({ name: 't', arguments: big }, { maxBytes: 2048 });
    expect(capped.arguments).toBeNull();
    expect(capped.argumentsExcerpt as string).toContain(REDACTED);
    expect(JSON.stringify(capped)).not.toContain(PASS);
    let deep: unknown = GH;
    for (let i = 0; i < 600; i++) deep = { nested: deep };
    const unscannable = storedToolCall({ name: 't', arguments: deep as JsonObject });
    expect(unscannable).toMatchObject({ arguments: null, argumentsStatus: 'too-deep', argumentsDigest: canonicalDigest(deep) });
    expect(JSON.stringify(unscannable)).not.toContain(GH);
  });

  it('recognises the arguments it was recorded from, and a record written before redaction', () => {
    const stored = storedToolCall({ name: 't', arguments: args });
    expect(sameArguments(stored, structuredClone(args))).toBe(true);
    expect(sameArguments(stored, { ...args, password: 'other' })).toBe(false);
    expect(sameArguments({ arguments: args }, structuredClone(args))).toBe(true);
    expect(sameArguments({ arguments: args }, { ...args, password: 'other' })).toBe(false);
  });
});

describe('restoreRedacted: an edit made on the redacted view', () => {
  const view = storedToolCall({ name: 't', arguments: args }).arguments!;

  it('a value left as shown keeps the agent’s own value; a value the approver types replaces it', () => {
    const edited = { ...view, namespace: 'staging', command: 'git clone https://github.com/acme/app' };
    const r = restoreRedacted(edited, args);
    expect(r).toEqual({ ok: true, arguments: { ...args, namespace: 'staging', command: 'git clone https://github.com/acme/app' } });
    const typed = restoreRedacted({ ...view, password: 'a-new-one' }, args);
    expect(typed.ok && typed.arguments.password).toBe('a-new-one');
    expect(typed.ok && typed.arguments.resource).toBe(MANIFEST);
  });

  it('a redacted value moved or changed refuses the edit, naming where', () => {
    const moved = restoreRedacted({ ...view, password: undefined, secret: REDACTED } as unknown as JsonObject, args);
    expect(moved).toEqual({ ok: false, message: expect.stringMatching(/redacted value at \/secret .*type the value there/) });
    const changed = restoreRedacted({ ...view, command: `${view.command} --depth 1` }, args);
    expect(changed.ok).toBe(false);
  });

  it('a literal [REDACTED] the agent itself sent stays as it is', () => {
    const own = { note: `${REDACTED} in the ticket` };
    expect(restoreRedacted(own, own)).toEqual({ ok: true, arguments: own });
  });
});
