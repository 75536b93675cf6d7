import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../src/bundle/bundle.js';
import type { PolicyInput } from '../src/contract/index.js';
import { compilePolicy } from '../src/policy/wasm.js';
import { buildBundle } from '../src/testkit/opa-bundle.js';
import { writeRulesPolicy } from './rules.js';

function input(over: {
  image?: string;
  namespace?: string;
  labels?: Record<string, string>;
  replicas?: number;
  annotations?: Record<string, string>;
}): PolicyInput {
  return {
    face: 'admission',
    actor: { username: 'system:serviceaccount:agents:a', groups: [], extra: {}, agent: true, serviceAccount: { namespace: 'agents', name: 'a' } },
    action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
    resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: over.namespace ?? 'team-a', name: 'web' },
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: over.labels ?? {}, annotations: over.annotations ?? {} },
      spec: { replicas: over.replicas ?? 1, template: { spec: { containers: [{ name: 'web', image: over.image ?? 'registry.example.com/web:1' }] } } },
    },
    oldObject: null,
    options: null,
    dryRun: false,
    namespace: { name: over.namespace ?? 'team-a' },
    context: {},
    tool: null,
    content: null,
  };
}

describe('writeRulesPolicy', () => {
  it('compiles N distinct rules of four shapes, each firing only on its own case', async () => {
    const dir = writeRulesPolicy(mkdtempSync(path.join(tmpdir(), 'belay-rules-')), 8);
    const policy = await compilePolicy(await parseBundle(buildBundle(dir)));
    expect(policy.evaluate('admission', input({})).decision).toBe('allow');
    const fired = (i: PolicyInput) => policy.evaluate('admission', i).reasons.map((r) => r.rule);
    expect(fired(input({ image: 'blocked-4.registry.example/x:1' }))).toEqual(['gen.r4']);
    expect(fired(input({ namespace: 'ns-5' }))).toEqual(['gen.r5']);
    expect(fired(input({ namespace: 'ns-5', labels: { 'owner-5': 'me' } }))).toEqual([]);
    expect(fired(input({ labels: { app: 'app-6' }, replicas: 107 }))).toEqual(['gen.r6']);
    expect(fired(input({ labels: { app: 'app-6' }, replicas: 106 }))).toEqual([]);
    expect(fired(input({ annotations: { 'forbidden-7.example.com/flag': 'on' } }))).toEqual(['gen.r7']);
    expect(fired(input({ image: 'blocked-9.registry.example/x:1' }))).toEqual([]);
  });
});
