// Single use, face by face, on both stores: an approval lets exactly one of 50
// concurrent replays through — whatever id the agent sends, across two
// gateway replicas — and nothing once it has expired. The admission face keeps
// the API server's own retries (the same review uid) and the validation of a
// request its mutating webhook admitted; the authorization face keeps its read
// window, counted from the one use on record.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApprovalStore } from '../approvals/kube-store.js';
import { ApprovalLifecycle } from '../approvals/lifecycle.js';
import { LocalApprovalStore } from '../approvals/local-store.js';
import { type ApprovalRequest, phaseOf } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Actor, Decision, ToolCallRequest } from '../contract/index.js';
import { agentSelectorFromData } from '../identity/agents.js';
import type { AdmissionRequest } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import { deferDecision, withAgents } from '../testkit/approval-requests.js';
import { startFakeKube } from '../testkit/fake-kube.js';
import { decideAdmission } from './admission.js';
import { decideAuthorization, ReadGrants } from './authorization.js';
import { decidePrompt } from './prompt.js';
import { decideToolCall } from './toolcall.js';
import { decideToolResult } from './toolresult.js';

const AGENT = 'system:serviceaccount:agents:bot';
const ALICE = { username: 'alice', groups: ['belay:approvers'] };
const agent: Actor = { username: AGENT, groups: ['system:serviceaccounts'], extra: {}, agent: true, serviceAccount: { namespace: 'agents', name: 'bot' } };
const data = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'] }, authorization: { readWindow: '10m' } } } };
const REPLAYS = 50;

const defer: Decision = deferDecision({ reasons: [{ rule: 'test.human', message: 'needs a human', severity: 'high' }] });

/** A bundle that defers everything, on every face. */
const policy: ActivePolicy = {
  revision: 'r1',
  bundleRevision: 'r1',
  digest: 'd',
  configDigest: null,
  agents: agentSelectorFromData(data),
  data,
  source: 'test',
  activatedAt: new Date(),
  evaluator: { revision: 'r1', builtins: [], evaluate: async () => ({ decision: defer }), close: async () => {} },
};

interface Stores {
  /** Two handles on the same approvals: two gateway replicas. */
  open(): Promise<ApprovalStore>;
  close(): Promise<void>;
}

let clock: number;
const now = () => new Date(clock);

const STORES: Record<string, () => Promise<Stores>> = {
  local: async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-single-use-'));
    return { open: () => LocalApprovalStore.open(dir, { now, ...withAgents }), close: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  cluster: async () => {
    const kube = await startFakeKube({ username: 'belay-gateway' });
    return { open: async () => new KubeApprovalStore(kube.kubeConfig()), close: () => kube.close() };
  },
};

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'prod-billing' },
  spec: {
    replicas: 5,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
};
const review = (uid: string): AdmissionRequest => ({
  uid,
  kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
  resource: { group: 'apps', version: 'v1', resource: 'deployments' },
  name: 'web',
  namespace: 'prod-billing',
  operation: 'UPDATE',
  userInfo: { username: AGENT, groups: ['system:serviceaccounts'] },
  object: deployment,
  oldObject: { ...deployment, spec: { ...deployment.spec, replicas: 3 } },
  dryRun: false,
});
const call = (requestId?: string): ToolCallRequest => ({
  tool: {
    name: 'resources_delete',
    arguments: { kind: 'Deployment', namespace: 'prod-billing', name: 'web' },
    target: { verb: 'delete', kind: 'Deployment', namespace: 'prod-billing', name: 'web' },
  },
  context: {},
  ...(requestId ? { requestId } : {}),
  dryRun: false,
});
const secretResult = { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, data: { password: 'czNjcjN0' } };
const sar = {
  user: AGENT,
  groups: ['system:serviceaccounts'],
  resourceAttributes: { verb: 'get', version: 'v1', resource: 'secrets', namespace: 'prod-billing', name: 'db' },
};

/**
 * Each face as a function of (replica, n): one request, and whether it was let
 * through. `id` is the id the agent sends; admission gets a fresh uid per API
 * request, as the API server gives it.
 */
type Replica = { approvals: ApprovalLifecycle; deps: Parameters<typeof decideToolResult>[2] & { grants: ReadGrants } };
const FACES: Record<string, (r: Replica, n: number, id: string) => Promise<boolean>> = {
  toolcall: async (r, _n, id) => (await decideToolCall(call(id), agent, r.deps)).decision === 'allow',
  toolresult: async (r, _n, id) => {
    const out = await decideToolResult({ tool: call().tool, result: secretResult, context: {}, requestId: id }, agent, r.deps);
    return out.verdict === 'approved';
  },
  prompt: async (r, _n, id) => (await decidePrompt({ text: 'please restart web', context: {}, requestId: id }, agent, r.deps)).decision === 'allow',
  // One API request: the mutating webhook, then the validating one, each review with its own uid.
  admission: async (r, n) => {
    const m = await decideAdmission(review(`m-${n}`), 'mutate', r.deps);
    if (!m.allowed) return false;
    return (await decideAdmission(review(`v-${n}`), 'validate', r.deps)).allowed;
  },
};

describe.each(Object.keys(STORES))('single use on the %s store', (kind) => {
  let stores: Stores;
  let replicas: Replica[];
  let store: ApprovalStore;

  beforeEach(async () => {
    clock = Date.now();
    stores = await STORES[kind]!();
    replicas = [];
    for (let i = 0; i < 2; i++) {
      const s = await stores.open();
      const approvals = new ApprovalLifecycle({ store: s, namespace: 'belay', now });
      replicas.push({
        approvals,
        deps: { policy: () => policy, approvals, namespaces: namesOnly, approvalStore: s, now, grants: new ReadGrants({ maxAgeMs: 0 }) },
      });
    }
    store = await stores.open();
  });
  afterEach(async () => {
    await stores.close();
  });

  const approveAll = async () => {
    const pending = (await store.list()).filter((r) => phaseOf(r) === 'Pending');
    expect(pending.length).toBeGreaterThan(0);
    for (const r of pending) await store.decide(r.metadata.namespace, r.metadata.name, { phase: 'Approved' }, ALICE);
  };
  const uses = async (): Promise<ApprovalRequest[]> => (await store.list()).filter((r) => phaseOf(r) === 'Consumed');

  for (const face of Object.keys(FACES)) {
    it(`${face}: ${REPLAYS} concurrent replays with one id, across two replicas, let exactly one through`, async () => {
      const run = FACES[face]!;
      expect(await run(replicas[0]!, 0, 'call-1')).toBe(false);
      await approveAll();
      const outcomes = await Promise.all(Array.from({ length: REPLAYS }, (_, n) => run(replicas[n % 2]!, n + 1, 'call-1')));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await uses()).toHaveLength(1);
      // And the same id once more, after the rush: a new request, not a replay.
      expect(await run(replicas[1]!, 999, 'call-1')).toBe(false);
    }, 60_000);

    it(`${face}: an approval that expired admits nothing, and neither does a replay of its use`, async () => {
      const run = FACES[face]!;
      expect(await run(replicas[0]!, 0, 'call-1')).toBe(false);
      await approveAll();
      clock += 16 * 60_000;
      expect(await run(replicas[1]!, 1, 'call-1')).toBe(false);
      expect(await uses()).toHaveLength(0);
      // Asked again, approved and used once; replayed past its deadline, nothing.
      await approveAll();
      expect(await run(replicas[0]!, 2, 'call-2')).toBe(true);
      clock += 16 * 60_000;
      expect(await run(replicas[1]!, 2, 'call-2')).toBe(false);
      expect(await uses()).toHaveLength(1);
    }, 60_000);
  }

  it('admission: the API server retrying one review (the same uid) is one use, not fifty', async () => {
    expect((await decideAdmission(review('v-0'), 'validate', replicas[0]!.deps)).allowed).toBe(false);
    await approveAll();
    const outcomes = await Promise.all(Array.from({ length: REPLAYS }, (_, n) => decideAdmission(review('v-1'), 'validate', replicas[n % 2]!.deps)));
    // Every answer to that one call agrees; the record holds one use by it.
    expect(new Set(outcomes.map((o) => o.allowed))).toEqual(new Set([true]));
    expect((await uses()).map((r) => r.status?.consumption?.requestUid)).toEqual(['v-1']);
    // Once that call can no longer be in flight, its uid is no excuse.
    clock += 61_000;
    expect((await decideAdmission(review('v-1'), 'validate', replicas[1]!.deps)).allowed).toBe(false);
  }, 60_000);

  it('authorization: reads in the window after the one use pass, on either replica; the window ends, and so do they', async () => {
    const read = (n: number) => decideAuthorization(sar, { ...replicas[n % 2]!.deps, now: () => clock });
    expect((await read(0)).verdict).toBe('defer');
    await approveAll();
    const outcomes = await Promise.all(Array.from({ length: REPLAYS }, (_, n) => read(n)));
    expect(outcomes.every((o) => o.verdict === 'approved')).toBe(true);
    const used = await uses();
    expect(used).toHaveLength(1);
    clock = Date.parse(used[0]!.status!.consumption!.at) + 10 * 60_000 + 1_000;
    expect((await read(1)).verdict).toBe('defer');
  }, 60_000);

  it('tool calls: any ids, any interleaving of replicas, at most one use per approval', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', undefined), fc.nat(1)), { minLength: 2, maxLength: 12 }), async (calls) => {
        for (const r of await store.list()) await store.delete?.(r.metadata.namespace, r.metadata.name);
        expect((await decideToolCall(call('first'), agent, replicas[0]!.deps)).decision).toBe('defer');
        await approveAll();
        const outs = await Promise.all(calls.map(([id, r]) => decideToolCall(call(id), agent, replicas[r]!.deps)));
        expect(outs.filter((o) => o.decision === 'allow')).toHaveLength(1);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
