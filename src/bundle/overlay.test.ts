import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../contract/index.js';
import type { Evaluator, PrepareEvaluator } from '../policy/evaluator.js';
import { writeVolume } from '../testkit/volume.js';
import { PolicyStore } from './active.js';
import type { Bundle } from './bundle.js';
import { mergePatch, overlayData, parseOverlay, revisionStamp } from './overlay.js';
import { watchOverlayFile } from './overlay-file.js';

const bundleData: JsonObject = {
  belay: {
    config: {
      agents: { groups: ['belay:agents'], serviceAccountNamespaces: ['agents'], serviceAccounts: [], usernames: [] },
      approval: { groups: { global: ['belay:approvers'], namespaces: { prod: ['sre'] } }, ttl: '15m' },
      tamper: { namespaces: ['belay'] },
    },
    other: { kept: true },
  },
};

function bundle(revision: string, data: JsonObject = bundleData): Bundle {
  return { manifest: { revision, roots: [''], wasm: [], metadata: {} }, wasm: new Uint8Array(), data, files: new Map(), digest: `digest-${revision}` };
}

/** An evaluator that only remembers the data it was prepared with. */
function preparing(): { prepare: PrepareEvaluator; prepared: JsonObject[] } {
  const prepared: JsonObject[] = [];
  const prepare: PrepareEvaluator = async (b) => {
    prepared.push(b.data);
    return { revision: b.manifest.revision, builtins: [], evaluate: async () => ({ decision: {} as never }), close: async () => {} } as Evaluator;
  };
  return { prepare, prepared };
}

describe('the configuration overlay', () => {
  it('merges objects key by key, replaces lists and scalars, and removes keys set to null (RFC 7386)', () => {
    const overlay = parseOverlay(
      JSON.stringify({ agents: { groups: ['team:bots'] }, approval: { groups: { global: ['oncall'] }, ttl: null }, tamper: { namespaces: ['belay-system'] } }),
      'overlay.json',
    );
    const data = overlayData(bundleData, overlay);
    expect(data).toEqual({
      belay: {
        config: {
          agents: { groups: ['team:bots'], serviceAccountNamespaces: ['agents'], serviceAccounts: [], usernames: [] },
          approval: { groups: { global: ['oncall'], namespaces: { prod: ['sre'] } } },
          tamper: { namespaces: ['belay-system'] },
        },
        other: { kept: true },
      },
    });
    // The bundle's own data is left as it was.
    expect((bundleData.belay as JsonObject).config).toMatchObject({ agents: { groups: ['belay:agents'] } });
    expect(mergePatch({ a: 1 }, ['x'])).toEqual(['x']);
  });

  it('has a digest of its content, not of its formatting, stamped beside the revision', () => {
    const a = parseOverlay('{"agents":{"groups":["x"]},"b":1}', 'a');
    const b = parseOverlay('{\n  "b": 1,\n  "agents": { "groups": ["x"] }\n}\n', 'b');
    expect(a.digest).toBe(b.digest);
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(revisionStamp('abc123', a)).toBe(`abc123+config.${a.digest.slice(0, 12)}`);
    expect(revisionStamp('abc123', undefined)).toBe('abc123');
  });

  it.each([
    ['not JSON', '{agents:', /is not JSON/],
    ['a list', '[]', /must be a JSON object/],
    ['a string', '"x"', /must be a JSON object/],
  ])('refuses an overlay that is %s', (_what, text, message) => {
    expect(() => parseOverlay(text, 'overlay.json')).toThrow(message);
  });
});

describe('a policy store with an overlay', () => {
  it('activates every bundle with the overlay, and a new overlay re-activates the serving bundle', async () => {
    const { prepare, prepared } = preparing();
    const store = new PolicyStore(prepare, { overlayRequired: true });
    const first = parseOverlay('{"agents":{"groups":["team:bots"]}}', 'o');
    await store.setOverlay(first);
    const a = await store.activate(bundle('r1'), 'src');
    expect(a.revision).toBe(`r1+config.${first.digest.slice(0, 12)}`);
    expect(a.bundleRevision).toBe('r1');
    expect(a.configDigest).toBe(first.digest);
    // The gateway's own agent check reads the overlaid data too.
    expect(a.agents.groups).toEqual(['team:bots']);
    const second = parseOverlay('{"agents":{"groups":["team:other"]}}', 'o');
    const b = await store.setOverlay(second);
    expect(b?.bundleRevision).toBe('r1');
    expect(store.current()?.agents.groups).toEqual(['team:other']);
    expect(prepared).toHaveLength(2);
  });

  it('activates nothing before the first overlay when one is required, then the bundle that waited', async () => {
    const { prepare } = preparing();
    const store = new PolicyStore(prepare, { overlayRequired: true });
    await expect(store.activate(bundle('r1'), 'src')).rejects.toThrow(/waiting for a usable configuration overlay/);
    expect(store.current()).toBeUndefined();
    expect(store.waiting).toBe(true);
    await store.setOverlay(parseOverlay('{}', 'o'));
    expect(store.current()?.bundleRevision).toBe('r1');
    expect(store.waiting).toBe(false);
  });
});

describe('the overlay file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is read again when its ConfigMap volume is swapped, and a bad file keeps the last good overlay', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-overlay-'));
    const volume = path.join(dir, 'config');
    writeVolume(volume, { 'overlay.json': '{"agents":{"groups":["team:a"]}}' });
    const { prepare } = preparing();
    const store = new PolicyStore(prepare, { overlayRequired: true });
    const errors: string[] = [];
    const file = await watchOverlayFile(path.join(volume, 'overlay.json'), store, { onError: (m) => errors.push(m), pollMs: 100 });
    try {
      await store.activate(bundle('r1'), 'src');
      expect(store.current()?.agents.groups).toEqual(['team:a']);

      writeVolume(volume, { 'overlay.json': '{"agents":{"groups":["team:b"]}}' });
      await until(() => store.current()?.agents.groups[0] === 'team:b');

      writeVolume(volume, { 'overlay.json': '{"agents":' });
      await until(() => errors.length > 0);
      expect(errors[0]).toMatch(/configuration overlay .*overlay.json is not JSON/);
      expect(file.status().error).toMatch(/is not JSON/);
      expect(store.current()?.agents.groups).toEqual(['team:b']);

      writeVolume(volume, { 'overlay.json': '{"agents":{"groups":["team:c"]}}' });
      await until(() => store.current()?.agents.groups[0] === 'team:c');
      expect(file.status().error).toBeUndefined();
    } finally {
      file.close();
    }
  });

  it('keeps the store from activating anything while the file is unusable at start', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-overlay-'));
    const { prepare } = preparing();
    const store = new PolicyStore(prepare, { overlayRequired: true });
    const file = await watchOverlayFile(path.join(dir, 'missing.json'), store, { pollMs: 100 });
    try {
      expect(file.status().error).toMatch(/cannot read configuration overlay .*missing.json/);
      await expect(store.activate(bundle('r1'), 'src')).rejects.toThrow(/waiting/);
      writeVolume(dir, { 'missing.json': '{}' });
      await until(() => store.current() !== undefined);
    } finally {
      file.close();
    }
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
