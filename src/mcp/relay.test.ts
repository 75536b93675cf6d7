// The relay with a real MCP client and server (the SDK's, in memory) on
// either side and a scripted gateway: what passes unchanged, what is judged,
// what is never sent, and how it fails closed.

import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/log.js';
import { evaluation, FakeGate, redactingText } from '../testkit/mcp/fake-gate.js';
import { createFakeKubeServer, type FakeKubeState, SECRET_VALUE } from '../testkit/mcp/fake-kube-server.js';
import { LineTransport } from './framing.js';
import { GatewayError } from './gateway.js';
import { type GuardOptions, ToolGuard } from './guard.js';
import { McpRelay, type RelayOptions } from './relay.js';
import { VERDICT_META } from './results.js';
import type { KubeDefaults } from './tools/index.js';

const kube: KubeDefaults = { namespace: () => 'team-a', cluster: (c) => c ?? 'dev' };

interface Setup {
  gate: FakeGate;
  state: FakeKubeState;
  client: Client;
  relay: McpRelay;
  gone: string[];
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function setup(o: { gate?: FakeGate; guard?: Partial<GuardOptions>; relay?: Partial<RelayOptions> } = {}): Promise<Setup> {
  const gate = o.gate ?? new FakeGate();
  const state: FakeKubeState = { calls: [] };
  const server = createFakeKubeServer(state);
  const [toUpstream, upstreamEnd] = InMemoryTransport.createLinkedPair();
  await server.connect(upstreamEnd);
  const [clientEnd, toClient] = InMemoryTransport.createLinkedPair();
  const gone: string[] = [];
  const guard = new ToolGuard({ gate, kube, log: silentLogger, ...o.guard });
  const relay = new McpRelay({ client: toClient, upstream: toUpstream, guard, log: silentLogger, onUpstreamGone: (r) => gone.push(r), ...o.relay });
  await relay.start();
  const client = new Client({ name: 'test-host', version: '1' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'pong' } }));
  await client.connect(clientEnd);
  open.push(async () => {
    await client.close();
    await relay.close();
    await server.close();
  });
  return { gate, state, client, relay, gone };
}

const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content ?? []).map((c) => c.text).join('\n');

describe('the relay passes MCP through', () => {
  it('initializes with the upstream server, and passes resources, prompts and ping unchanged', async () => {
    const { client } = await setup();
    expect(client.getServerVersion()).toMatchObject({ name: 'kubernetes-mcp-server' });
    expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, resources: {}, prompts: {} });
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['k8s://cluster/info']);
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['triage']);
    await expect(client.ping()).resolves.toBeDefined();
  });

  it("passes the upstream's sampling request to the client and its answer back", async () => {
    const { client } = await setup();
    const r = await client.callTool({ name: 'ask_model', arguments: {} });
    expect(textOf(r)).toBe('model said: pong');
  });

  it("passes the upstream's progress notifications to the caller", async () => {
    const { client } = await setup();
    const seen: number[] = [];
    const r = await client.callTool({ name: 'with_progress', arguments: {} }, undefined, { onprogress: (p) => seen.push(p.progress) });
    expect(textOf(r)).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('passes an unknown method to the upstream, and its error back', async () => {
    const { client } = await setup();
    await expect(client.request({ method: 'no/such', params: {} }, CreateMessageRequestSchema as never)).rejects.toThrow(/Method not found/);
  });
});

describe('tools/call is judged first', () => {
  it('forwards an allowed call with its Kubernetes target, and redacts the result before the agent sees it', async () => {
    const gate = new FakeGate();
    gate.redactWith = redactingText(SECRET_VALUE);
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'resources_get', arguments: { apiVersion: 'v1', kind: 'Secret', name: 'db' } });
    expect(state.calls).toEqual([{ name: 'resources_get', arguments: { apiVersion: 'v1', kind: 'Secret', name: 'db' } }]);
    expect(gate.calls[0]).toMatchObject({ name: 'resources_get', target: { verb: 'get', kind: 'Secret', namespace: 'team-a', name: 'db', cluster: 'dev' } });
    expect(textOf(r)).toContain('password: [REDACTED]');
    expect(textOf(r)).not.toContain(SECRET_VALUE);
    expect(gate.redactions[0]).toMatchObject({ tool: { name: 'resources_get' }, requestId: expect.stringMatching(/^mcp-[0-9a-f]{20}-[0-9a-f]{12}-r0$/) });
  });

  it('does not send a denied call; the agent reads the reason and the rule', async () => {
    const gate = new FakeGate();
    gate.decide = () =>
      evaluation('deny', {
        message: 'exec into pods is not allowed for agents [rule toolcall.denied_tool]',
        reasons: [{ rule: 'toolcall.denied_tool', message: 'exec…' }],
      });
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'pods_exec', arguments: { name: 'web-1', command: ['id'] } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('belay denied the call to pods_exec: exec into pods is not allowed for agents [rule toolcall.denied_tool]');
    expect(r._meta).toEqual({ [VERDICT_META]: { decision: 'deny', rules: ['toolcall.denied_tool'], revision: 'test' } });
    expect(state.calls).toEqual([]);
  });

  it('does not send a deferred call; the agent reads which ApprovalRequest to get approved', async () => {
    const gate = new FakeGate();
    gate.decide = () =>
      evaluation('defer', {
        message: 'approval required: deleting Deployment "web" … [rule destructive.delete_production]. ApprovalRequest prod-billing/belay-abc is Pending …',
        reasons: [{ rule: 'destructive.delete_production', message: '…' }],
        approval: { id: 'prod-billing/belay-abc', phase: 'Pending' },
      });
    const { client, state } = await setup({ gate });
    const r = await client.callTool({
      name: 'resources_delete',
      arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^belay did not run resources_delete: approval required: .*ApprovalRequest prod-billing\/belay-abc is Pending/);
    expect(r._meta?.[VERDICT_META]).toMatchObject({ decision: 'defer', approval: { id: 'prod-billing/belay-abc', phase: 'Pending' } });
    expect(state.calls).toEqual([]);
  });

  it('runs the arguments the approver edited, not the ones the agent sent', async () => {
    const gate = new FakeGate();
    gate.decide = (req) =>
      evaluation('allow', {
        approval: { id: 'team-a/belay-1', phase: 'Approved', decidedBy: 'alice' },
        edited: true,
        tool: { name: req.tool.name, arguments: { ...req.tool.arguments, scale: 2 } },
      });
    const { client, state } = await setup({ gate });
    await client.callTool({ name: 'resources_scale', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', scale: 0 } });
    expect(state.calls[0]?.arguments).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', scale: 2 });
    expect(gate.redactions[0]).toMatchObject({ approvalId: 'team-a/belay-1', tool: { arguments: { scale: 2 } } });
  });

  it('hands the agent the compliant manifest when the gateway proposes a fix, and does not run the call', async () => {
    const gate = new FakeGate();
    const fixed = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { securityContext: { runAsNonRoot: true } } };
    gate.decide = () =>
      evaluation('deny', {
        reasons: [{ rule: 'pss.restricted.run_as_non_root', message: 'Pod "p" must set runAsNonRoot' }],
        fix: { patch: [{ op: 'add', path: '/spec/securityContext', value: { runAsNonRoot: true } }], object: fixed, arguments: { resource: 'the fixed yaml' } },
      });
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      'belay did not run resources_create_or_update: the manifest is not compliant: Pod "p" must set runAsNonRoot [rule pss.restricted.run_as_non_root]. ' +
        'Call resources_create_or_update again with this as "resource":\n\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true\n',
    );
    expect(state.calls).toEqual([]);
  });

  it('sends the object a call implies along with it (the Scale of resources_scale)', async () => {
    const { client, gate } = await setup();
    await client.callTool({ name: 'resources_scale', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod', scale: 0 } });
    expect(gate.evaluations[0]?.tool).toMatchObject({
      target: { verb: 'update', subresource: 'scale', kind: 'Deployment', namespace: 'prod', name: 'web' },
      object: { kind: 'Scale', spec: { replicas: 0 } },
    });
  });

  it('refuses an approver edit that breaks the input schema', async () => {
    const gate = new FakeGate();
    gate.decide = (req) => evaluation('allow', { edited: true, tool: { name: req.tool.name, arguments: { name: 42 } } });
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'pods_get', arguments: { name: 'web-1' } });
    expect(textOf(r)).toMatch(/approver's edit of its arguments does not match the tool's input schema: \/name must be string/);
    expect(state.calls).toEqual([]);
  });

  it('checks arguments against the tool schema before asking anyone', async () => {
    const { client, state, gate } = await setup();
    await client.listTools();
    const r = await client.callTool({ name: 'resources_delete', arguments: { name: 'web' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/its arguments do not match the tool's input schema: .*must have required property 'apiVersion'/);
    expect(gate.calls).toEqual([]);
    expect(state.calls).toEqual([]);
  });

  it('learns the schemas itself when the client calls a tool it never listed', async () => {
    const { client, state } = await setup();
    const r = await client.callTool({ name: 'pods_exec', arguments: { name: 'web-1', command: 'id' } });
    expect(textOf(r)).toMatch(/\/command must be array/);
    expect(state.calls).toEqual([]);
  });

  it('refuses a manifest it cannot judge (several documents) without asking the gateway', async () => {
    const { client, state, gate } = await setup();
    const two = 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n';
    const r = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: two } });
    expect(textOf(r)).toMatch(/holds 2 documents; belay judges one object per call/);
    expect(gate.calls).toEqual([]);
    expect(state.calls).toEqual([]);
  });

  it.each([
    ['unreachable', new GatewayError('unreachable', "belay's gateway at https://127.0.0.1:1 is unreachable: ECONNREFUSED")],
    ['unauthorized', new GatewayError('unauthorized', "belay's gateway refused the agent token: the bearer token is not valid", 401)],
    ['unavailable', new GatewayError('unavailable', "belay's gateway could not answer: no bundle", 503)],
  ])('fails closed when the gateway is %s: nothing is sent, the agent reads why', async (_kind, err) => {
    const gate = new FakeGate();
    gate.failWith = err;
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(err.message);
    expect(textOf(r)).toContain('Nothing was sent to the MCP server (belay fails closed)');
    expect(state.calls).toEqual([]);
  });

  it('withholds the result when it cannot be checked (fail closed)', async () => {
    const gate = new FakeGate();
    gate.redactWith = () => {
      throw new GatewayError('rejected', "belay's gateway refused the request: the tool result is not valid YAML", 400);
    };
    const { client, state } = await setup({ gate });
    const r = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(state.calls).toHaveLength(1);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^pods_list ran, but belay could not check its result for secrets .*not valid YAML.*withheld/);
  });

  it('withholds a result policy denies or defers', async () => {
    const gate = new FakeGate();
    gate.redactWith = () => ({
      decision: 'defer',
      message: 'approval required: credentials in a plain-text result [rule toolresult.credential_in_text]',
      reasons: [{ rule: 'toolresult.credential_in_text', message: '…' }],
      warnings: [],
      approval: { id: 'team-a/belay-r1', phase: 'Pending' },
      result: 'raw',
      redactions: [],
    });
    const { client } = await setup({ gate });
    const r = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(textOf(r)).toMatch(/^pods_list ran, but belay withheld its result until an approver lets it through: .*\(ApprovalRequest team-a\/belay-r1\)$/);
    expect(textOf(r)).not.toContain('raw');
  });

  it('withholds a result over the size limit', async () => {
    const { client } = await setup({ guard: { maxResultBytes: 100_000 } });
    const r = await client.callTool({ name: 'big_result', arguments: { mb: 0.5 } });
    expect(textOf(r)).toMatch(/^big_result ran, but its result \(\d+ bytes\) is over belay's limit of 100000 bytes/);
  });

  it('cancels a call the upstream never answers, and says it may have run', async () => {
    const { client, state } = await setup({ relay: { callTimeoutMs: 300 } });
    const r = await client.callTool({ name: 'slow_tool', arguments: {} });
    expect(state.calls.map((c) => c.name)).toEqual(['slow_tool']);
    expect(textOf(r)).toMatch(/did not answer within 0.3s; belay cancelled it\. It may or may not have taken effect/);
    // The relay keeps serving.
    expect(textOf(await client.callTool({ name: 'pods_list', arguments: {} }))).toContain('web-1');
  });

  it('never sends a call the client cancelled while it was being judged', async () => {
    const gate = new FakeGate();
    gate.delayMs = 300;
    const { client, state } = await setup({ gate });
    const ac = new AbortController();
    const call = client.callTool({ name: 'pods_list', arguments: {} }, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort('changed my mind'), 50);
    await expect(call).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 500));
    expect(state.calls).toEqual([]);
  });
});

describe('--wait', () => {
  it('waits for the approval with progress notifications, then runs the call once approved', async () => {
    const gate = new FakeGate();
    let approved = false;
    gate.decide = () =>
      approved
        ? evaluation('allow', { approval: { id: 'prod-billing/belay-abc', phase: 'Approved', decidedBy: 'alice' } })
        : evaluation('defer', {
            approval: { id: 'prod-billing/belay-abc', phase: 'Pending' },
            reasons: [{ rule: 'destructive.delete_production', message: 'm' }],
          });
    gate.approvalWith = (id) => {
      approved = gate.approvalReads.length >= 2;
      return { id, phase: approved ? 'Approved' : 'Pending', decidedBy: approved ? 'alice' : null, message: null, arguments: null, edited: false };
    };
    const { client, state } = await setup({ gate, guard: { waitMs: 10_000 } });
    const progress: string[] = [];
    const r = await client.callTool(
      { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing' } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? '') },
    );
    expect(r.isError).toBeFalsy();
    expect(state.calls.map((c) => c.name)).toEqual(['resources_delete']);
    expect(progress[0]).toMatch(/^waiting for an approver to decide ApprovalRequest prod-billing\/belay-abc \(0s of 10s\)$/);
    // Asked twice under one id: the second ask uses the approval, and is the same use if repeated.
    const ids = gate.calls.map((_, i) => gate.evaluations.filter((e) => !e.dryRun)[i]!.requestId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });

  it('answers a rejection with who rejected it and why', async () => {
    const gate = new FakeGate();
    gate.decide = () => evaluation('defer', { approval: { id: 'prod-billing/belay-abc', phase: 'Pending' } });
    gate.approvalWith = (id) => ({ id, phase: 'Rejected', decidedBy: 'alice', message: 'wrong cluster', arguments: null, edited: false });
    const { client, state } = await setup({ gate, guard: { waitMs: 5_000 } });
    const r = await client.callTool({ name: 'pods_delete', arguments: { name: 'web-1', namespace: 'prod-billing' } });
    expect(textOf(r)).toBe(
      'belay did not run pods_delete: ApprovalRequest prod-billing/belay-abc was rejected by alice: wrong cluster. Do not retry the same call; change the approach or ask the approver.',
    );
    expect(state.calls).toEqual([]);
  });

  it('gives up when the wait is over and the approval is still pending', async () => {
    const gate = new FakeGate();
    gate.decide = () => evaluation('defer', { approval: { id: 'prod-billing/belay-abc', phase: 'Pending' } });
    const { client, state } = await setup({ gate, guard: { waitMs: 300 } });
    const r = await client.callTool({ name: 'pods_delete', arguments: { name: 'web-1', namespace: 'prod-billing' } });
    expect(textOf(r)).toMatch(/Still pending after waiting 0.3s\.$/);
    expect(state.calls).toEqual([]);
  });
});

describe('tools/list', () => {
  it('leaves out the tools policy denies by name, asking with a dry run and no arguments', async () => {
    const gate = new FakeGate();
    gate.decide = (req) => evaluation(req.tool.name === 'pods_exec' || req.tool.name === 'helm_install' ? 'deny' : 'allow');
    const { client } = await setup({ gate });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('pods_exec');
    expect(names).not.toContain('helm_install');
    expect(names).toContain('pods_list');
    expect(gate.evaluations.every((e) => e.dryRun === true && Object.keys(e.tool.arguments).length === 0)).toBe(true);
  });

  it('lists every tool when the gateway cannot be asked (calls are still judged)', async () => {
    const gate = new FakeGate();
    gate.failWith = new GatewayError('unreachable', 'down');
    const { client } = await setup({ gate });
    expect((await client.listTools()).tools.length).toBe(28);
  });
});

describe('a misbehaving upstream', () => {
  it('answers a call whose answer cannot be read with an error, and keeps serving', async () => {
    // A scripted upstream on stdio framing: it answers initialize, then breaks its answers.
    const toRelay = new PassThrough();
    const fromRelay = new PassThrough();
    const upstream = new LineTransport({ input: toRelay, output: fromRelay, maxLineBytes: 4096 });
    const [clientEnd, toClient] = InMemoryTransport.createLinkedPair();
    const gate = new FakeGate();
    const relay = new McpRelay({ client: toClient, upstream, guard: new ToolGuard({ gate, kube, log: silentLogger }), log: silentLogger });
    upstream.onmalformed = (line) => relay.upstreamMalformed(line);
    await relay.start();
    let calls = 0;
    createInterface({ input: fromRelay }).on('line', (line) => {
      const m = JSON.parse(line) as { id?: number | string; method?: string };
      if (m.method === 'initialize') {
        toRelay.write(
          `${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'scripted', version: '0' } } })}\n`,
        );
      } else if (m.method === 'tools/list') {
        toRelay.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } })}\n`);
      } else if (m.method === 'tools/call') {
        calls++;
        if (calls === 1) toRelay.write(`{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":{"content":[{"type":"text","text":"unterminated\n`);
        else if (calls === 2)
          toRelay.write(`{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"${'x'.repeat(8000)}"}]},"id":${JSON.stringify(m.id)}}\n`);
        else toRelay.write(`not json at all\n${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'fine' }] } })}\n`);
      }
    });
    const client = new Client({ name: 't', version: '1' });
    await client.connect(clientEnd);
    open.push(async () => {
      await client.close();
      await relay.close();
    });
    await expect(client.callTool({ name: 'echo', arguments: {} })).rejects.toThrow(/the MCP server's answer to tools\/call could not be read: not JSON/);
    await expect(client.callTool({ name: 'echo', arguments: {} })).rejects.toThrow(/over the limit of 4096 bytes; ask for less/);
    expect(textOf(await client.callTool({ name: 'echo', arguments: {} }))).toBe('fine');
  });
});

describe('the upstream goes away', () => {
  it('answers what is in flight with an error and tells the owner', async () => {
    const s = await setup({ relay: { callTimeoutMs: 60_000 } });
    const call = s.client.callTool({ name: 'slow_tool', arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    s.relay.upstreamGone('the upstream MCP server (fake) exited with code 3');
    await expect(call).rejects.toThrow(/exited with code 3; belay did not send this request anywhere else/);
    expect(s.gone).toEqual(['the upstream MCP server (fake) exited with code 3']);
    await expect(s.client.ping()).rejects.toThrow(/exited with code 3/);
  });
});
