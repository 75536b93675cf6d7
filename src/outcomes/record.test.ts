// The Outcome record of an admitted change: what is watched, what is kept
// for a remedy (and what never is), and one name for both reviews of a request.

import { describe, expect, it } from 'vitest';
import type { JsonObject, PatchOperation } from '../contract/index.js';
import { watchedDecision as decision, agentInput as input, WATCH as watch } from '../testkit/outcomes.js';
import { deployment } from '../testkit/workloads.js';
import { outcomeRecord, specDigest } from './record.js';
import type { AdmittedChange } from './seam.js';

const stored = (replicas: number, rv = '41') => {
  const d = deployment({ replicas });
  (d.metadata as JsonObject).resourceVersion = rv;
  return d;
};
const change = (over: Partial<AdmittedChange> & Pick<AdmittedChange, 'input'>): AdmittedChange => ({
  uid: 'uid-1',
  stage: 'validate',
  decision: decision(),
  revision: 'rev-1',
  ...over,
});
const options = { namespace: 'belay', now: new Date('2026-12-06T10:00:00Z') };

describe('outcomeRecord', () => {
  it('records an approved update with what to expect and the object to roll back to', () => {
    const r = outcomeRecord(
      change({
        input: input(stored(3), stored(2)),
        approvalId: 'team-a/belay-1',
        decision: decision({ watch: { ...watch, triggers: ['approval', 'workload'] } }),
      }),
      options,
    )!;
    expect(r.metadata).toMatchObject({ namespace: 'team-a', labels: { 'belay.dev/outcome-state': 'watching' } });
    expect(r.metadata.name).toMatch(/^outcome-[0-9a-f]{20}$/);
    expect(r.spec.change).toMatchObject({
      id: 'uid-1',
      operation: 'UPDATE',
      target: { group: 'apps', kind: 'Deployment', namespace: 'team-a', name: 'web', subresource: '' },
      requester: { user: 'system:serviceaccount:agents:bot' },
      context: { workflow: 'scale-web' },
      approval: 'team-a/belay-1',
      triggers: ['approval', 'workload'],
      admittedAt: '2026-12-06T10:00:00Z',
    });
    expect(r.spec.expect).toEqual({ uid: 'dep-uid', specDigest: specDigest(stored(3)), generation: 1 });
    expect(r.spec.previous).toMatchObject({ kind: 'Deployment', spec: { replicas: 2 } });
    expect((r.spec.previous!.metadata as JsonObject).resourceVersion).toBeUndefined();
    expect(r.spec.policy).toEqual({ window: '5m', settle: '30s', notReadyAfter: '2m', restartLimit: 3 });
  });

  it('watches nothing without a watch request, on a dry run, for a read, or for a change that changes nothing', () => {
    expect(outcomeRecord(change({ input: input(stored(3), stored(2)), decision: decision({ watch: null }) }), options)).toBeNull();
    expect(outcomeRecord(change({ input: input(stored(3), stored(2), { dryRun: true }) }), options)).toBeNull();
    const exec = input(null, null, { action: { operation: 'CONNECT', verb: 'connect', subresource: 'exec', dryRun: false } });
    expect(outcomeRecord(change({ input: exec }), options)).toBeNull();
    expect(outcomeRecord(change({ input: input(stored(2, '42'), stored(2)) }), options)).toBeNull();
  });

  it('a policy fix is recorded at the mutating stage, with the object without it; the validating review lands on the same name', () => {
    const sent = deployment({ replicas: 2 });
    const fix: PatchOperation[] = [{ op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } }];
    const fixing = decision({
      fixes: fix,
      reasons: [{ rule: 'pss.restricted.run_as_non_root', message: 'm', severity: 'medium' }],
      watch: { ...watch, triggers: ['fix', 'workload'] },
    });
    const atMutate = outcomeRecord(change({ stage: 'mutate', input: input(sent, null), decision: fixing, patch: fix }), options)!;
    expect(atMutate.spec.change.triggers).toEqual(['fix', 'workload']);
    expect(atMutate.spec.change.fixes).toEqual({ rules: ['pss.restricted.run_as_non_root'], patch: fix });
    expect(atMutate.spec.unfixed).toMatchObject({ spec: { template: { spec: { containers: [{ image: 'nginx:1.27' }] } } } });
    expect(((atMutate.spec.unfixed!.spec as JsonObject).template as JsonObject).spec).not.toHaveProperty('securityContext');
    const fixedObject = structuredClone(sent);
    (((fixedObject.spec as JsonObject).template as JsonObject).spec as JsonObject).securityContext = { runAsNonRoot: true };
    const atValidate = outcomeRecord(change({ input: input(fixedObject, null) }), options)!;
    expect(atValidate.metadata.name).toBe(atMutate.metadata.name);
    // Without a fix the mutating stage records nothing; an approver's edit is recorded at validation.
    expect(outcomeRecord(change({ stage: 'mutate', input: input(sent, null) }), options)).toBeNull();
    expect(outcomeRecord(change({ stage: 'mutate', input: input(sent, null), patch: fix, approvalId: 'team-a/belay-1' }), options)).toBeNull();
  });

  it('keeps no rollback source that held a secret value, or that is too large, and says why', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' } };
    const r = outcomeRecord(
      change({
        input: input({ ...secret, data: { password: 'bmV3' } }, secret, {
          resource: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'team-a', name: 's' },
        }),
      }),
      options,
    )!;
    expect(r.spec.previous).toBeNull();
    expect(r.spec.previousNote).toMatch(/held secret values, which belay never stores/);
    expect(JSON.stringify(r)).not.toContain('aHVudGVyMg==');
    const big = stored(2);
    (big.metadata as JsonObject).annotations = { note: 'x'.repeat(200_000) };
    const large = outcomeRecord(change({ input: input(stored(3), big) }), options)!;
    expect(large.spec.previous).toBeNull();
    expect(large.spec.previousNote).toMatch(/larger than 128 KiB/);
  });

  it('a scale request watches the parent and keeps the replicas to go back to', () => {
    const scale = (n: number) => ({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'team-a', uid: 'dep-uid', resourceVersion: '7' },
      spec: { replicas: n },
    });
    const r = outcomeRecord(
      change({
        input: input(scale(5), scale(2), {
          action: { operation: 'UPDATE', verb: 'update', subresource: 'scale', dryRun: false },
          resource: { group: 'autoscaling', version: 'v1', kind: 'Scale', resource: 'deployments', namespace: 'team-a', name: 'web' },
        }),
      }),
      options,
    )!;
    expect(r.spec.change.target).toMatchObject({ group: 'apps', kind: 'Deployment', resource: 'deployments', subresource: 'scale' });
    expect(r.spec.expect).toEqual({ uid: 'dep-uid', replicas: 5 });
    expect(r.spec.previous).toEqual({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'team-a' }, spec: { replicas: 2 } });
  });

  it('a delete expects the object gone; a cluster-scoped target is recorded in the approvals namespace', () => {
    const r = outcomeRecord(change({ input: input(null, stored(2)) }), options)!;
    expect(r.spec.change.operation).toBe('DELETE');
    expect(r.spec.expect).toEqual({ uid: 'dep-uid' });
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old', uid: 'ns-uid' } };
    const cluster = outcomeRecord(
      change({ input: input(null, ns, { resource: { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespace: '', name: 'old' } }) }),
      options,
    )!;
    expect(cluster.metadata.namespace).toBe('belay');
  });

  it('the spec digest ignores what controllers write after the change, but not the change', () => {
    const a = stored(2);
    const b = structuredClone(a);
    (b.metadata as JsonObject).annotations = { 'deployment.kubernetes.io/revision': '7' };
    (b.status as JsonObject).replicas = 9;
    expect(specDigest(b)).toBe(specDigest(a));
    expect(specDigest(stored(3))).not.toBe(specDigest(a));
    const pod = { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
    expect(specDigest({ ...pod, spec: { containers: [], nodeName: 'node-1' } })).toBe(specDigest(pod));
  });
});
