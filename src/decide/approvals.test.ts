// The faces with the real approval lifecycle on the local store: read
// windows shared by replicas through the store, a tool call's edited
// arguments checked before the approval is used, and tool results and prompts
// keyed on their content.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalLifecycle } from '../approvals/lifecycle.js';
import { LocalApprovalStore } from '../approvals/local-store.js';
import { phaseOf } from '../approvals/resource.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Actor, Decision, Face, PolicyInput } from '../contract/index.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { namesOnly } from '../namespaces/directory.js';
import { withAgents } from '../testkit/approval-requests.js';
import { decideAuthorization, ReadGrants } from './authorization.js';
import { decidePrompt } from './prompt.js';
import { decideToolCall } from './toolcall.js';
import { decideToolResult } from './toolresult.js';

const AGENT = 'system:serviceaccount:agents:bot';
const ALICE = { username: 'alice', groups: ['belay:approvers'] };
const agent: Actor = { username: AGENT, groups: [], extra: {}, agent: true, serviceAccount: { namespace: 'agents', name: 'bot' } };
const data = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'] }, authorization: { readWindow: '1m' } } } };

const decision = (verdict: Decision['decision'], rule = 'test.rule', message = 'needs a human'): Decision => ({
  decision: verdict,
  reasons: verdict === 'allow' ? [] : [{ rule, message, severity: 'high' }],
  fixes: [],
  redact: [],
  warnings: [],
  approval: verdict === 'defer' ? { groups: ['belay:approvers'], ttl: '15m', risk: 'high' } : null,
  mode: 'approve',
  wouldBe: null,
});

function policy(evaluate: (face: Face, input: PolicyInput) => Decision): ActivePolicy {
  return {
    revision: 'r1',
    bundleRevision: 'r1',
    configDigest: null,
    digest: 'd',
    agents: agentSelectorFromData(data),
    data,
    source: 'test',
    activatedAt: new Date(),
    evaluator: { revision: 'r1', builtins: [], evaluate: async (face, input) => ({ decision: evaluate(face, input as PolicyInput) }), close: async () => {} },
  };
}

let dir: string;
let clock: number;
const now = () => new Date(clock);
/** One gateway replica: its own store handle, lifecycle and read-grant cache, on the shared state. */
async function replica(p: ActivePolicy) {
  const store = await LocalApprovalStore.open(dir, { now, ...withAgents });
  const approvals = new ApprovalLifecycle({ store, namespace: 'belay', now });
  return { store, approvals, deps: { policy: () => p, approvals, namespaces: namesOnly, grants: new ReadGrants(), now: () => clock, approvalStore: store } };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-faces-'));
  clock = Date.parse('2026-05-01T10:00:00Z');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Secret reads across replicas', () => {
  const read = { user: AGENT, groups: ['system:serviceaccounts'], resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'prod', name: 'db' } };
  const reads = policy((face) => (face === 'authorization' ? decision('defer', 'secrets.read', 'reading a Secret needs a human') : decision('allow')));

  it('an approved read is allowed on every replica for the window after its first use, then asks again', async () => {
    const a = await replica(reads);
    const b = await replica(reads);
    const first = await decideAuthorization(read, a.deps);
    expect(first.verdict).toBe('defer');
    // The denial says what an approval of a read gives, not the admission face's "admitted once".
    expect(first.status.reason).toMatch(/then retry the read: the same read by the same agent is allowed for 1m from the first one after the approval\.$/);
    expect(first.status.reason).not.toMatch(/admitted once/);
    const [pending] = await a.store.list();
    await a.store.decide(pending!.metadata.namespace, pending!.metadata.name, { phase: 'Approved' }, ALICE);

    expect(await decideAuthorization(read, a.deps)).toMatchObject({ verdict: 'approved', status: { allowed: false, denied: false } });
    clock += 20_000;
    // Replica B never saw the approval used; the record says the window is open.
    expect(await decideAuthorization(read, b.deps)).toMatchObject({ verdict: 'approved', status: { allowed: false, denied: false } });
    clock += 30_000;
    expect((await decideAuthorization(read, a.deps)).verdict).toBe('approved');
    expect(await a.store.list()).toHaveLength(1);

    clock += 11_000; // 61s after the use
    const after = await decideAuthorization(read, b.deps);
    expect(after.verdict).toBe('defer');
    expect(after.status.reason).toMatch(/The read window of approval prod\/belay-[0-9a-f]{20} ended at .*, so reading it again needs a new approval/);
    expect((await decideAuthorization(read, a.deps)).verdict).toBe('defer');
    expect((await a.store.list()).map(phaseOf).sort()).toEqual(['Consumed', 'Pending']);
  });

  it('the store is the truth: an approval deleted to revoke it stops the window once the short cache lapses', async () => {
    const a = await replica(reads);
    await decideAuthorization(read, a.deps);
    const [r] = await a.store.list();
    await a.store.decide(r!.metadata.namespace, r!.metadata.name, { phase: 'Approved' }, ALICE);
    expect((await decideAuthorization(read, a.deps)).verdict).toBe('approved');
    expect(await a.store.delete(r!.metadata.namespace, r!.metadata.name)).toBe(true);
    expect((await decideAuthorization(read, a.deps)).verdict).toBe('approved'); // served from the cache
    clock += 6_000;
    expect((await decideAuthorization(read, a.deps)).verdict).toBe('defer');
  });
});

describe("an approver's edit of a tool call", () => {
  const crb = 'kind: ClusterRoleBinding\nmetadata: {name: default-admin}\nroleRef: {kind: ClusterRole, name: cluster-admin}\n';
  const call = {
    tool: {
      name: 'resources_create_or_update',
      arguments: { resource: crb },
      target: { verb: 'create', group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', name: 'default-admin' },
    },
    context: {},
    dryRun: false,
  };
  const p = policy((_face, input) => {
    const args = (input.tool as { arguments: { resource: string } }).arguments;
    if (args.resource.includes('kube-system')) return decision('deny', 'test.kube_system', 'nothing may be bound in kube-system');
    return args.resource.includes('ClusterRoleBinding') ? decision('defer', 'test.cluster_admin') : decision('allow');
  });

  it('replacement arguments that policy denies are refused and leave the approval unused; allowed ones use it', async () => {
    const { store, deps } = await replica(p);
    expect((await decideToolCall({ ...call, requestId: 'c-1' }, agent, deps)).decision).toBe('defer');
    const [r] = await store.list();
    const denied = 'kind: RoleBinding\nmetadata: {name: default-admin, namespace: kube-system}\n';
    await store.decide('belay', r!.metadata.name, { phase: 'Approved', override: { arguments: { resource: denied } } }, ALICE);

    const refused = await decideToolCall({ ...call, requestId: 'c-2' }, agent, deps);
    expect(refused).toMatchObject({
      decision: 'deny',
      approval: { phase: 'Refused', message: expect.stringMatching(/edit is denied by policy: nothing may be bound in kube-system/) },
      edited: false,
    });
    expect(phaseOf((await store.get('belay', r!.metadata.name))!)).toBe('Approved');
  });

  it('an edit policy accepts is run once, with the digest of the edited call on record', async () => {
    const { store, deps } = await replica(p);
    await decideToolCall({ ...call, requestId: 'c-1' }, agent, deps);
    const [r] = await store.list();
    const rb = 'kind: RoleBinding\nmetadata: {name: default-admin, namespace: team-a}\n';
    await store.decide('belay', r!.metadata.name, { phase: 'Approved', override: { arguments: { resource: rb } } }, ALICE);
    const run = await decideToolCall({ ...call, requestId: 'c-2' }, agent, deps);
    expect(run).toMatchObject({
      decision: 'allow',
      verdict: 'approved',
      edited: true,
      tool: { arguments: { resource: rb }, target: { kind: 'RoleBinding', namespace: 'team-a' } },
    });
    expect((await store.get('belay', r!.metadata.name))!.status).toMatchObject({ phase: 'Consumed', consumption: { requestUid: 'c-2' } });
    expect((await decideToolCall({ ...call, requestId: 'c-3' }, agent, deps)).decision).toBe('defer');
  });
});

describe('tool results and prompts are keyed on their content', () => {
  it('another prompt is another approval; the same prompt finds the same one', async () => {
    const p = policy((_face, input) =>
      (input.content as { findings: unknown[] }).findings.length > 0 ? decision('defer', 'prompt.secret') : decision('allow'),
    );
    const { store, deps } = await replica(p);
    const token = (c: string) => `sha256~${c.repeat(43)}`;
    const one = await decidePrompt({ text: `log one: ${token('a')}`, context: {} }, agent, deps);
    const two = await decidePrompt({ text: `another log: ${token('b')}`, context: {} }, agent, deps);
    const again = await decidePrompt({ text: `log one: ${token('a')}`, context: {} }, agent, deps);
    expect(two.approval!.id).not.toBe(one.approval!.id);
    expect(again.approval!.id).toBe(one.approval!.id);
    const records = await store.list();
    expect(records).toHaveLength(2);
    expect(records[0]!.spec.request).toMatchObject({ kind: 'Prompt', name: '' });
    expect(JSON.stringify(records)).not.toContain(token('a'));
  });

  it('another result of the same call is another approval', async () => {
    const p = policy(() => decision('defer', 'toolresult.credential_in_text'));
    const { store, deps: authz } = await replica(p);
    const deps = { ...authz, now };
    const tool = { name: 'pods_log', arguments: { name: 'web-1' }, target: { verb: 'get', kind: 'Pod', namespace: 'team-a', name: 'web-1' } };
    const one = await decideToolResult({ tool, result: 'first line', context: {} }, agent, deps);
    const two = await decideToolResult({ tool, result: 'other line', context: {} }, agent, deps);
    expect(two.approval!.id).not.toBe(one.approval!.id);
    expect((await decideToolResult({ tool, result: 'first line', context: {} }, agent, deps)).approval!.id).toBe(one.approval!.id);
    expect(await store.list()).toHaveLength(2);
  });
});
