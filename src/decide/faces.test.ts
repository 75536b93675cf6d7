// The authorization and agent API decisions without HTTP: fail closed
// for agents, never evaluate for non-agents on the authorization face.

import { describe, expect, it } from 'vitest';
import { noApprovals } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Actor, Decision, Face, PolicyInput } from '../contract/index.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { namesOnly } from '../namespaces/directory.js';
import { decideAuthorization, ReadGrants, readWindowMs } from './authorization.js';
import { decidePrompt } from './prompt.js';
import { decideToolCall } from './toolcall.js';
import { decideToolResult } from './toolresult.js';

const data = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } };

function policy(evaluate: (face: Face, input: PolicyInput) => Decision): ActivePolicy & { seen: PolicyInput[] } {
  const seen: PolicyInput[] = [];
  return {
    seen,
    revision: 'r1',
    bundleRevision: 'r1',
    configDigest: null,
    digest: 'd',
    agents: agentSelectorFromData(data),
    data,
    source: 'test',
    activatedAt: new Date(),
    evaluator: {
      revision: 'r1',
      builtins: [],
      evaluate: async (face, input) => {
        seen.push(input as PolicyInput);
        return { decision: evaluate(face, input as PolicyInput) };
      },
      close: async () => {},
    },
  };
}

const broken = () =>
  policy(() => {
    throw new Error('wasm trap: out of bounds');
  });

const agent: Actor = { username: 'system:serviceaccount:agents:bot', groups: [], extra: {}, agent: true, serviceAccount: { namespace: 'agents', name: 'bot' } };
const deps = (p: ActivePolicy | undefined) => ({ policy: () => p, approvals: noApprovals, namespaces: namesOnly, grants: new ReadGrants() });
const secretRead = (user: string) => ({ user, groups: [], resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'prod', name: 'db' } });

describe('fail closed', () => {
  it('authorization: an agent read is denied with the evaluation error; a human gets no opinion without evaluation', async () => {
    const p = broken();
    const a = await decideAuthorization(secretRead('system:serviceaccount:agents:bot'), deps(p));
    expect(a.status).toMatchObject({ allowed: false, denied: true, evaluationError: expect.stringContaining('wasm trap') });
    expect(a.status.reason).toMatch(/^belay could not evaluate policy for this agent request, so it is refused \(fail closed\)/);
    const h = await decideAuthorization(secretRead('bob'), deps(p));
    expect(h.status).toEqual({ allowed: false, denied: false });
    expect(p.seen).toHaveLength(1);
  });

  it('authorization without a bundle answers an evaluation error and no opinion (the failure policy decides)', async () => {
    const a = await decideAuthorization(secretRead('system:serviceaccount:agents:bot'), deps(undefined));
    expect(a.status).toMatchObject({ allowed: false, denied: false, evaluationError: expect.stringMatching(/no active policy bundle/) });
  });

  it('tool calls, tool results and prompts deny when evaluation fails', async () => {
    const p = broken();
    const call = await decideToolCall({ tool: { name: 'pods_list', arguments: {}, target: {} }, context: {}, dryRun: false }, agent, deps(p));
    expect(call).toMatchObject({ decision: 'deny', verdict: 'error', error: { code: 'evaluation_failed' } });
    const result = await decideToolResult(
      { tool: { name: 'resources_get', arguments: {}, target: {} }, result: '{"kind":"Secret","data":{"a":"b"}}', context: {} },
      agent,
      deps(p),
    );
    expect(result).toMatchObject({ decision: 'deny', result: null });
    const prompt = await decidePrompt({ text: 'hi', context: {} }, agent, deps(p));
    expect(prompt).toMatchObject({ decision: 'deny', findings: [], redacted: 'hi' });
  });

  it('the agent API without a bundle throws not_ready (503)', async () => {
    await expect(decideToolCall({ tool: { name: 'x', arguments: {}, target: {} }, context: {}, dryRun: false }, agent, deps(undefined))).rejects.toMatchObject({
      code: 'not_ready',
    });
  });
});

describe('inputs', () => {
  it('the authorization input carries the verb, resource, kind and the workflow from user extra', async () => {
    const p = policy(() => ({ decision: 'allow', reasons: [], fixes: [], redact: [], warnings: [], approval: null, mode: 'approve', wouldBe: null }));
    await decideAuthorization({ ...secretRead('system:serviceaccount:agents:bot'), extra: { 'belay.dev/workflow': ['rotate-db-v1'] } }, deps(p));
    expect(p.seen[0]).toMatchObject({
      face: 'authorization',
      action: { operation: 'GET', verb: 'get', subresource: '' },
      resource: { group: '', kind: 'Secret', resource: 'secrets', namespace: 'prod', name: 'db' },
      context: { workflow: 'rotate-db-v1', source: 'userinfo' },
      object: null,
    });
  });

  it('the tool call input maps the target and the API context', async () => {
    const p = policy(() => ({ decision: 'allow', reasons: [], fixes: [], redact: [], warnings: [], approval: null, mode: 'approve', wouldBe: null }));
    await decideToolCall(
      {
        tool: {
          name: 'resources_delete',
          arguments: { name: 'web' },
          target: { verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'web', cluster: 'prod-eu1' },
        },
        context: { workflow: 'cleanup', source: 'api' },
        dryRun: false,
      },
      agent,
      deps(p),
    );
    expect(p.seen[0]).toMatchObject({
      face: 'toolcall',
      action: { operation: 'DELETE', verb: 'delete' },
      resource: { kind: 'Deployment', namespace: 'prod' },
      context: { workflow: 'cleanup', cluster: 'prod-eu1', source: 'api' },
      tool: { name: 'resources_delete', target: { cluster: 'prod-eu1' } },
    });
  });

  it('the read window comes from bundle data, with a default', () => {
    expect(readWindowMs({ belay: { config: { authorization: { readWindow: '90s' } } } })).toBe(90_000);
    expect(readWindowMs({})).toBe(5 * 60_000);
    expect(readWindowMs({ belay: { config: { authorization: { readWindow: 'soon' } } } })).toBe(5 * 60_000);
  });
});
