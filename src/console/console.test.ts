// The console core: what a request shows, in which order, to whom; how a
// decision is read; whose credentials reach the cluster; and the service
// over a real local store (long poll, conflicts, expiry).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestKeys } from '../approvals/fingerprint.js';
import { LocalApprovalStore } from '../approvals/local-store.js';
import { newApprovalRequest } from '../approvals/record.js';
import type { ApprovalRequest, ApprovalStatus } from '../approvals/resource.js';
import type { PatchOperation } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { AGENT, deferDecision, deferred, deployment, policyInput } from '../testkit/approval-requests.js';
import { clusterAccess, localAccess, userKubeConfig } from './access.js';
import { parseDecisionRequest } from './decision.js';
import { yamlDiff } from './diff.js';
import { ConsoleService } from './service.js';
import { consoleOrder, detail, effectivePhase, listVersion, summarize, type Viewer, visibleTo } from './view.js';

const T0 = new Date('2026-03-01T12:00:00Z');
const agents = agentSelectorFromData({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'], groups: ['belay:agents'] } } } });
const ALICE: Viewer = { username: 'alice', groups: ['belay:approvers'] };
const CAROL: Viewer = { username: 'carol', groups: ['developers'] };

function record(
  o: { replicas?: number; fixes?: PatchOperation[]; onBehalfOf?: string; status?: ApprovalStatus; created?: Date; tool?: boolean; name?: string } = {},
): ApprovalRequest {
  const object = o.tool ? null : deployment(o.replicas ?? 3, o.name ? { name: o.name } : {});
  const input = policyInput(object, {
    ...(o.onBehalfOf ? { actor: { ...policyInput(null).actor, extra: { 'belay.dev/on-behalf-of': [o.onBehalfOf] } } } : {}),
    ...(o.tool
      ? {
          face: 'toolcall' as const,
          action: { operation: 'DELETE', verb: 'delete', subresource: '', dryRun: false },
          resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'prod-billing', name: 'test-web' },
          tool: {
            name: 'resources_delete',
            arguments: { kind: 'Deployment', namespace: 'prod-billing', name: 'test-web' },
            target: { verb: 'delete', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web', cluster: 'prod-billing' },
          },
          context: {},
        }
      : {}),
  });
  const req = { ...deferred('uid', object), input, decision: deferDecision({ fixes: o.fixes ?? [] }) };
  const r = newApprovalRequest(req, requestKeys(input), { namespace: 'prod', attempt: 1, now: o.created ?? T0 });
  return {
    ...r,
    metadata: { ...r.metadata, resourceVersion: '1', creationTimestamp: (o.created ?? T0).toISOString() },
    status: o.status ?? { phase: 'Pending' },
  };
}

const at = (ms: number) => new Date(T0.getTime() + ms);

describe('view', () => {
  it('reads a lapsed Pending or unused Approved request as Expired, and leaves settled ones alone', () => {
    const r = record();
    expect(effectivePhase(r, T0)).toBe('Pending');
    expect(effectivePhase(r, at(15 * 60_000))).toBe('Expired');
    expect(effectivePhase({ ...r, status: { phase: 'Approved' } }, at(16 * 60_000))).toBe('Expired');
    expect(effectivePhase({ ...r, status: { phase: 'Consumed' } }, at(16 * 60_000))).toBe('Consumed');
    expect(effectivePhase({ ...r, spec: { ...r.spec, requiredBy: 'garbage' } }, T0)).toBe('Expired');
  });

  it('orders pending first (soonest deadline first), then the rest most recent first', () => {
    const early = record({ replicas: 1, created: at(-10 * 60_000) });
    const late = record({ replicas: 2 });
    const approved = record({ replicas: 3, status: { phase: 'Approved', decidedBy: 'alice', decidedAt: at(-60_000).toISOString() } });
    const rejected = record({ replicas: 4, status: { phase: 'Rejected', decidedBy: 'bob', decidedAt: at(-30_000).toISOString(), message: 'no' } });
    const lapsed = record({ replicas: 5, created: at(-20 * 60_000) });
    const sorted = [approved, lapsed, late, rejected, early].sort(consoleOrder(T0));
    expect(sorted).toEqual([early, late, rejected, approved, lapsed]);
  });

  it('changes the list version on a write and when a deadline passes, not otherwise', () => {
    const r = record();
    const v = listVersion([r], T0);
    expect(listVersion([r], at(1_000))).toBe(v);
    expect(listVersion([{ ...r, metadata: { ...r.metadata, resourceVersion: '2' } }], T0)).not.toBe(v);
    expect(listVersion([r], at(15 * 60_000))).not.toBe(v);
    expect(listVersion([], T0)).not.toBe(v);
  });

  it('shows a request to its requester, the human the agent acts for and the approvers only', () => {
    const r = record({ onBehalfOf: 'dana' });
    expect(visibleTo(r, ALICE)).toBe(true);
    expect(visibleTo(r, { username: 'dana', groups: [] })).toBe(true);
    expect(visibleTo(r, { username: AGENT, groups: [] })).toBe(true);
    expect(visibleTo(r, CAROL)).toBe(false);
  });

  it('summarises what was tried, by whom and why, and whether the viewer may decide', () => {
    const s = summarize(record({ onBehalfOf: 'dana' }), T0, ALICE, agents);
    expect(s).toMatchObject({
      phase: 'Pending',
      summary: 'CREATE Deployment prod/web',
      action: { operation: 'CREATE', kind: 'Deployment', namespace: 'prod', name: 'web', cluster: null },
      requester: { user: AGENT, onBehalfOf: 'dana', agent: true },
      reasons: [{ rule: 'prod.scale', severity: 'high' }],
      context: { workflow: 'scale-up-v1', confidence: 0.7 },
      decision: null,
      you: { mayDecide: true, why: null },
    });
    expect(summarize(record({ onBehalfOf: 'dana' }), T0, { username: 'dana', groups: ['belay:approvers'] }, agents).you.why).toMatch(
      /on behalf of dana, who may not decide it/,
    );
    expect(summarize(record(), T0, { username: 'system:serviceaccount:agents:other', groups: ['belay:approvers'] }, agents).you.why).toMatch(/agent identity/);
    expect(summarize(record(), T0, CAROL, agents).you.why).toMatch(/only members of belay:approvers may decide this request; carol is not/);
    const done = summarize(record({ status: { phase: 'Rejected', decidedBy: 'bob', decidedAt: T0.toISOString(), message: 'not now' } }), T0, ALICE, agents);
    expect(done).toMatchObject({
      phase: 'Rejected',
      decision: { by: 'bob', message: 'not now', edited: false },
      you: { mayDecide: false, why: expect.stringMatching(/already Rejected by bob/) },
    });
    expect(summarize(record(), at(20 * 60_000), ALICE, agents).you.why).toMatch(/expired at/);
  });

  it('names the target cluster of a tool call, and its tool', () => {
    const s = summarize(record({ tool: true }), T0, ALICE, agents);
    expect(s).toMatchObject({
      summary: 'tool resources_delete → DELETE Deployment prod-billing/test-web',
      action: { tool: 'resources_delete', cluster: 'prod-billing' },
    });
    const d = detail(
      record({
        tool: true,
        status: { phase: 'Approved', decidedBy: 'alice', override: { arguments: { kind: 'Deployment', namespace: 'staging', name: 'test-web' } } },
      }),
      T0,
      ALICE,
      agents,
    );
    expect(d.tool).toMatchObject({ name: 'resources_delete', target: { cluster: 'prod-billing' } });
    expect(d.overrideDiff).toEqual(
      expect.arrayContaining([
        { kind: 'remove', text: 'namespace: prod-billing' },
        { kind: 'add', text: 'namespace: staging' },
      ]),
    );
  });

  it('never shows a secret, not even of a record written before records were redacted, and says what was hidden', () => {
    const PASS = 'Harbor4821!kube';
    const r = record({ tool: true });
    // A record from an older gateway: the arguments and object as they were sent.
    const old: ApprovalRequest = {
      ...r,
      spec: {
        ...r.spec,
        tool: { name: 'resources_create_or_update', arguments: { namespace: 'prod', password: PASS }, target: { verb: 'create' } },
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'db.url': `postgres://app:${PASS}@db/app` } },
        objectExcerpt: `{"password":"${PASS}"`,
      },
    };
    const d = detail(old, T0, ALICE, agents);
    expect(JSON.stringify(d)).not.toContain(PASS);
    expect(d.tool).toMatchObject({
      arguments: { namespace: 'prod', password: '[REDACTED]' },
      redactions: [{ pointer: '/password', kind: 'password', rule: 'belay/keyed-value', description: expect.stringMatching(/a password/) }],
      argumentsDigest: expect.stringMatching(/^sha256:/),
    });
    expect(d.object).toMatchObject({ data: { 'db.url': 'postgres://app:[REDACTED]@db/app' } });
  });

  it('shows the proposed fix as a YAML diff, and says when it does not apply', () => {
    const ok = detail(record({ fixes: [{ op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } }] }), T0, ALICE, agents);
    expect(ok.fixError).toBeNull();
    expect(ok.fixDiff?.filter((l) => l.kind === 'add')).toEqual([
      { kind: 'add', text: '      securityContext:' },
      { kind: 'add', text: '        runAsNonRoot: true' },
    ]);
    expect(ok.fixDiff?.[0]).toMatchObject({ kind: 'hunk' });
    const broken = detail(record({ fixes: [{ op: 'replace', path: '/spec/nothing/here', value: 1 }] }), T0, ALICE, agents);
    expect(broken.fixDiff).toBeNull();
    expect(broken.fixError).toMatch(/does not apply/);
  });

  it('diffs nothing as no lines, and cuts very long diffs', () => {
    expect(yamlDiff({ a: 1 }, { a: 1 })).toEqual([]);
    const before = { items: Array.from({ length: 3000 }, (_, i) => i) };
    const after = { items: Array.from({ length: 3000 }, (_, i) => `x${i}`) };
    const big = yamlDiff(before, after, { timeoutMs: 60_000 });
    expect(big.length).toBeLessThanOrEqual(2001);
    expect(big.at(-1)).toEqual({ kind: 'hunk', text: '… diff cut at 2000 lines' });
    // Past its budget the diff gives up rather than hold the event loop.
    expect(yamlDiff(before, after, { maxEditLength: 10 })).toEqual([{ kind: 'hunk', text: 'the change is too large to show as a diff; see the JSON patch' }]);
  });
});

describe('parseDecisionRequest', () => {
  const r = record({ fixes: [{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }] });
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (err) {
      return err instanceof BelayError ? `${err.code}: ${err.message}` : String(err);
    }
  };

  it('reads approve, approve with the proposed fix, reject and the three kinds of edit', () => {
    expect(parseDecisionRequest({ action: 'approve' }, r)).toEqual({ action: 'approve', decision: { phase: 'Approved' } });
    expect(parseDecisionRequest({ action: 'approve', message: '  ok  ', resourceVersion: '7' }, r)).toEqual({
      action: 'approve',
      decision: { phase: 'Approved', message: 'ok' },
      resourceVersion: '7',
    });
    expect(parseDecisionRequest({ action: 'approve', applyFixes: true }, r).decision.override).toEqual({ patch: r.spec.fixes });
    expect(parseDecisionRequest({ action: 'reject', message: 'wrong cluster' }, r).decision).toEqual({ phase: 'Rejected', message: 'wrong cluster' });
    const yaml =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod, labels: {app: web}}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: "nginx:1.27"}]}}\n';
    expect(parseDecisionRequest({ action: 'edit', object: yaml }, r).decision).toEqual({
      phase: 'Approved',
      override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 1 }] },
    });
    expect(parseDecisionRequest({ action: 'edit', patch: '[{"op":"replace","path":"/spec/replicas","value":2}]' }, r).decision.override).toEqual({
      patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
    });
    const tool = record({ tool: true });
    expect(parseDecisionRequest({ action: 'edit', arguments: 'kind: Deployment\nnamespace: staging\nname: test-web\n' }, tool).decision.override).toEqual({
      arguments: { kind: 'Deployment', namespace: 'staging', name: 'test-web' },
    });
  });

  it('refuses what it cannot use with bad_request', () => {
    const tool = record({ tool: true });
    const cases: [unknown, RegExp, ApprovalRequest?][] = [
      [null, /must be a JSON object/],
      [{ action: 'approve', extra: 1 }, /unknown field "extra"/],
      [{ action: 'reject' }, /rejection needs a "message"/],
      [{ action: 'reject', message: 42 }, /"message" must be a string/],
      [{ action: 'approve', applyFixes: 'yes' }, /true or false/],
      [{ action: 'reject', message: 'x', applyFixes: true }, /only goes with "action": "approve"/],
      [{ action: 'approve', applyFixes: true }, /no proposed fix/, record()],
      [{ action: 'edit', patch: [], object: {} }, /exactly one of/],
      [{ action: 'edit', patch: {} }, /JSON array/],
      [{ action: 'edit', patch: [] }, /list of 1 to 256 operations/],
      [{ action: 'edit', patch: [{ op: 'move', from: '/metadata/name', path: '/x' }] }, /cannot change the object's kind, name or namespace/],
      [{ action: 'edit', object: [] }, /must be an object/],
      [
        {
          action: 'edit',
          object:
            'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod, labels: {app: web}}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: "nginx:1.27"}]}}\n',
        },
        /same as the requested one/,
      ],
      [{ action: 'edit', object: { kind: 'Deployment' } }, /cannot change the object's kind, name or namespace/],
      [{ action: 'edit', object: 'x: 1' }, /this request is a tool call: edit its "arguments"/, tool],
      [{ action: 'edit', arguments: [] }, /must be an object/, tool],
      [{ action: 'approve', resourceVersion: 7 }, /"resourceVersion"/],
    ];
    for (const [body, message, req] of cases)
      expect(
        code(() => parseDecisionRequest(body, req ?? r)),
        JSON.stringify(body),
      ).toMatch(new RegExp(`^bad_request: .*${message.source}`));
  });
});

describe('cluster access', () => {
  const gateway = new k8s.KubeConfig();
  gateway.loadFromOptions({
    clusters: [{ name: 'prod', server: 'https://10.0.0.1:6443', caData: 'Q0E=', tlsServerName: 'kubernetes', skipTLSVerify: false }],
    users: [{ name: 'belay-sa', token: 'gateway-service-account-token', certData: 'Y2VydA==', keyData: 'a2V5' }],
    contexts: [{ name: 'prod', cluster: 'prod', user: 'belay-sa' }],
    currentContext: 'prod',
  });

  it("calls the same API server with the approver's token and none of the gateway's credentials", async () => {
    const kc = userKubeConfig(gateway.getCurrentCluster()!, 'approver-token');
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://10.0.0.1:6443', caData: 'Q0E=', tlsServerName: 'kubernetes', skipTLSVerify: false });
    expect(kc.getCurrentUser()).toEqual({ name: 'approver', token: 'approver-token' });
    const options: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(options as never);
    expect(options.headers?.Authorization).toBe('Bearer approver-token');
    expect(JSON.stringify(kc.users)).not.toMatch(/gateway-service-account-token|Y2VydA|a2V5/);
  });

  it("makes a store per token, on the gateway's API server", () => {
    const access = clusterAccess(gateway);
    expect(access.mode).toBe('cluster');
    expect(access.storeFor('t1')).not.toBe(access.storeFor('t1'));
    expect(access.storeFor('t1')).toMatchObject({ kind: 'cluster', location: 'https://10.0.0.1:6443' });
  });
});

describe('ConsoleService on a local store', () => {
  let dir: string;
  let store: LocalApprovalStore;
  let now: Date;
  let service: ConsoleService;
  const alice = { viewer: ALICE, token: 't' };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-console-svc-'));
    now = T0;
    store = await LocalApprovalStore.open(dir, { agents: () => agents, now: () => now });
    service = new ConsoleService({ access: localAccess(store), agents: () => agents, now: () => now, pollIntervalMs: 10, maxWaitMs: 2_000 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = async (o: Parameters<typeof record>[0] = {}) => (await store.create(record(o))).request;

  it('lists what the viewer may see, pending first, with a version that tracks changes', async () => {
    const a = await put({ replicas: 1 });
    const b = await put({ replicas: 2 });
    await store.decide('prod', b.metadata.name, { phase: 'Rejected', message: 'no' }, { username: 'bob', groups: ['belay:approvers'] });
    const list = await service.list(alice);
    expect(list).toMatchObject({ mode: 'local', pending: 1, now: T0.toISOString() });
    expect(list.items.map((i) => [i.name, i.phase])).toEqual([
      [a.metadata.name, 'Pending'],
      [b.metadata.name, 'Rejected'],
    ]);
    expect((await service.list({ viewer: CAROL, token: 't' })).items).toEqual([]);
    expect((await service.list(alice, { namespace: 'other' })).items).toEqual([]);
    await expect(service.list(alice, { namespace: 'Bad_NS' })).rejects.toThrow(/not a namespace name/);
  });

  it('long-polls: waits while nothing changes, answers at once when it does, and stops when the caller leaves', async () => {
    await put();
    const { version } = await service.list(alice);
    let t = Date.now();
    expect((await service.list(alice, { since: version, waitMs: 200 })).version).toBe(version);
    expect(Date.now() - t).toBeGreaterThanOrEqual(180);

    t = Date.now();
    const waiting = service.list(alice, { since: version, waitMs: 2_000 });
    setTimeout(() => void put({ replicas: 9 }), 50);
    const changed = await waiting;
    expect(changed.version).not.toBe(version);
    expect(changed.items).toHaveLength(2);
    expect(Date.now() - t).toBeLessThan(1_500);

    const gone = new AbortController();
    t = Date.now();
    setTimeout(() => gone.abort(), 50);
    await service.list(alice, { since: changed.version, waitMs: 2_000, signal: gone.signal });
    expect(Date.now() - t).toBeLessThan(1_000);
  });

  it('decides as the caller; refuses expired, stale and already decided requests with conflict', async () => {
    const r = await put();
    await expect(service.decide(alice, 'prod', r.metadata.name, { action: 'approve', resourceVersion: '0' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/changed since you looked/),
    });
    const done = await service.decide(alice, 'prod', r.metadata.name, { action: 'approve', message: 'go', resourceVersion: '1' });
    expect(done).toMatchObject({ phase: 'Approved', decision: { by: 'alice', message: 'go' }, resourceVersion: '2' });
    await expect(
      service.decide({ viewer: { username: 'bob', groups: ['belay:approvers'] }, token: 't' }, 'prod', r.metadata.name, { action: 'reject', message: 'no' }),
    ).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/already Approved \(decided by alice/) });

    const late = await put({ replicas: 7 });
    now = at(16 * 60_000);
    await expect(service.decide(alice, 'prod', late.metadata.name, { action: 'approve' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/expired at .* can no longer be decided/),
    });
    expect((await store.get('prod', late.metadata.name))?.status?.phase).toBe('Pending');
  });

  it("passes the store's refusal on as forbidden, and hides what the viewer may not see", async () => {
    const r = await put({ onBehalfOf: 'dana' });
    await expect(
      service.decide({ viewer: { username: 'dana', groups: ['belay:approvers'] }, token: 't' }, 'prod', r.metadata.name, { action: 'approve' }),
    ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/on behalf of dana/) });
    await expect(service.get({ viewer: CAROL, token: 't' }, 'prod', r.metadata.name)).rejects.toMatchObject({ code: 'not_found' });
    await expect(service.get(alice, 'prod', 'Not_A_Name')).rejects.toMatchObject({ code: 'bad_request' });
  });

  const inRun = async (replicas: number, run: string, onBehalfOf?: string) => {
    const r = record({ replicas, ...(onBehalfOf ? { onBehalfOf } : {}) });
    r.spec.context = { workflow: 'rollout-plan', run, prompt: `roll out step ${replicas}`, source: 'api' };
    return (await store.create(r)).request;
  };

  it("shows a request's workflow run and the history of its object", async () => {
    const a = await inRun(1, 'r1');
    const b = await inRun(2, 'r1');
    await inRun(3, 'r2');
    now = at(60_000);
    await store.decide('prod', b.metadata.name, { phase: 'Rejected', message: 'not now' }, { username: 'bob', groups: ['belay:approvers'] });
    const c = await inRun(4, 'r1');
    const d = await service.get(alice, 'prod', a.metadata.name);
    expect(d.workflowRun).toMatchObject({ workflow: 'rollout-plan', run: 'r1' });
    expect(d.workflowRun?.pending.map((p) => p.id).sort()).toEqual([`prod/${a.metadata.name}`, `prod/${c.metadata.name}`].sort());
    // The same Deployment prod/web: every other request for it, newest first, with its decision.
    expect(d.history.map((h) => [h.id, h.phase, h.decidedBy])).toEqual(expect.arrayContaining([[`prod/${b.metadata.name}`, 'Rejected', 'bob']]));
    expect(d.history).toHaveLength(3);
    expect(d.change).toBeNull();
    // The prompt is on the request's page, not on every line of the list.
    expect(d.context.prompt).toBe('roll out step 1');
    expect((await service.list(alice)).items.every((i) => i.context.prompt === undefined)).toBe(true);
    expect((await service.get({ viewer: CAROL, token: 't' }, 'prod', a.metadata.name).catch((e) => e)).code).toBe('not_found');
  });

  it('decides a workflow run request by request: the one its human may not decide is refused, the others approved', async () => {
    const a = await inRun(1, 'r1');
    const b = await inRun(2, 'r1', 'alice');
    const c = await inRun(3, 'r1');
    const other = await inRun(4, 'r2');
    const ids = [a, b, c].map((r) => `prod/${r.metadata.name}`);
    const out = await service.decideRun(alice, { action: 'approve', workflow: 'rollout-plan', run: 'r1', ids: [...ids, `prod/${other.metadata.name}`] });
    expect(out).toMatchObject({ workflow: 'rollout-plan', run: 'r1', action: 'approve', decided: 2 });
    expect(out.results.map((r) => [r.id, r.ok, r.phase ?? r.error?.code])).toEqual([
      [ids[0], true, 'Approved'],
      [ids[1], false, 'forbidden'],
      [ids[2], true, 'Approved'],
      [`prod/${other.metadata.name}`, false, 'bad_request'],
    ]);
    expect(out.results[1]!.error?.message).toMatch(/on behalf of alice, who may not decide it/);
    expect((await store.get('prod', b.metadata.name))?.status?.phase).toBe('Pending');
    expect((await store.get('prod', other.metadata.name))?.status?.phase).toBe('Pending');
    const again = await service.decideRun(alice, { action: 'reject', message: 'stop', workflow: 'rollout-plan', run: 'r1', ids: [ids[0]!] });
    expect(again.results[0]).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('refuses a malformed batch before deciding anything', async () => {
    const a = await inRun(1, 'r1');
    const id = `prod/${a.metadata.name}`;
    for (const [body, message] of [
      [{ action: 'edit', workflow: 'w', ids: [id] }, /"action" must be approve or reject/],
      [{ action: 'approve', ids: [id] }, /"workflow"/],
      [{ action: 'approve', workflow: 'w', ids: [] }, /"ids" must list 1 to 100/],
      [{ action: 'approve', workflow: 'w', ids: ['../x'] }, /"ids"/],
      [{ action: 'reject', workflow: 'w', ids: [id] }, /a rejection needs a "message"/],
      [{ action: 'approve', workflow: 'w', ids: [id], force: true }, /unknown field "force"/],
    ] as const) {
      await expect(service.decideRun(alice, body), JSON.stringify(body)).rejects.toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(message),
      });
    }
    expect((await store.get('prod', a.metadata.name))?.status?.phase).toBe('Pending');
  });
});
