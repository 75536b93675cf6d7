// belay mcp --listen: streamable HTTP over TLS in front of an upstream that
// runs as a child process per session, with a real gateway checking every
// session's bearer token. Driven by the SDK's streamable HTTP client.

import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/mcp/gateway.js';
import { silentLogger } from '../../src/observe/log.js';
import { fetchTrusting } from '../../src/testkit/mcp/fetch.js';
import { AGENT_TOKEN, approvalIdIn, type GatewayFixture, OTHER_AGENT_TOKEN, ROOT, startGatewayFixture } from '../../src/testkit/mcp/gateway.js';
import { type HttpProxy, startHttpProxy } from './http.js';

let f: GatewayFixture;
let proxy: HttpProxy;
let gateway: GatewayClient;
let tlsDir: string;
let proxyCa: Buffer;

beforeAll(async () => {
  f = await startGatewayFixture();
  tlsDir = mkdtempSync(path.join(tmpdir(), 'belay-mcp-listen-'));
  gateway = new GatewayClient({ url: f.url, ca: f.ca, token: () => '' });
  proxy = await startHttpProxy({
    host: '127.0.0.1',
    port: 0,
    tlsDir,
    session: {
      upstream: { kind: 'command', command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'src/testkit/mcp/fake-kube-server.ts')], stderr: null },
      kube: { namespace: () => 'team-a', cluster: () => 'shared' },
      log: silentLogger,
    },
    gateFor: (token) => gateway.as(token),
    log: silentLogger,
  });
  const { readFileSync } = await import('node:fs');
  proxyCa = readFileSync(path.join(tlsDir, 'ca.crt'));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  gateway?.close();
  await f?.close();
  rmSync(tlsDir, { recursive: true, force: true });
});

async function connect(token: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
    fetch: fetchTrusting(proxyCa),
    ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
  });
  const client = new Client({ name: 'shared-agent', version: '1' });
  await client.connect(transport);
  return client;
}

function raw(method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      proxy.url,
      {
        method,
        ca: proxyCa,
        servername: 'localhost',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content ?? []).map((c) => c.text).join('\n');

describe('belay mcp --listen', () => {
  it('serves a session to an agent with its own token: judged calls, redacted results, deferred deletes', async () => {
    const client = await connect(AGENT_TOKEN);
    expect(client.getServerVersion()?.name).toBe('kubernetes-mcp-server');
    expect((await client.listTools()).tools.length).toBe(28);
    expect(textOf(await client.callTool({ name: 'pods_list', arguments: {} }))).toContain('web-1');
    const r = await client.callTool({
      name: 'resources_delete',
      arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'prod-billing' },
    });
    expect(approvalIdIn(textOf(r))).toMatch(/^prod-billing\/belay-/);
    expect(proxy.sessions()).toBe(1);
    await client.close();
  });

  it('refuses a session without a token, or with one the gateway does not accept (401)', async () => {
    const none = await raw('POST', {}, INIT);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(none.text).error.message).toMatch(/missing Authorization header/);
    const bad = await raw('POST', { authorization: 'Bearer not-a-known-token-0000' }, INIT);
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.text).error.message).toMatch(/refused the agent token/);
  });

  it("keeps a session to the token that opened it (403 for another agent's), and answers unknown sessions 404", async () => {
    const open = await raw('POST', { authorization: `Bearer ${AGENT_TOKEN}` }, INIT);
    expect(open.status).toBe(200);
    const sid = open.headers['mcp-session-id'] as string;
    expect(sid).toBeTruthy();
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    const other = await raw('POST', { authorization: `Bearer ${OTHER_AGENT_TOKEN}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, ping);
    expect(other.status).toBe(403);
    const unknown = await raw(
      'POST',
      { authorization: `Bearer ${AGENT_TOKEN}`, 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' },
      ping,
    );
    expect(unknown.status).toBe(404);
    const closed = await raw('DELETE', { authorization: `Bearer ${AGENT_TOKEN}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(closed.status).toBe(200);
  });

  it('rejects a Host header that is not this machine (DNS rebinding) and a body that is not JSON', async () => {
    const rebound = await raw('POST', { authorization: `Bearer ${AGENT_TOKEN}`, host: 'evil.example.com' }, INIT);
    expect(rebound.status).toBe(403);
    const garbage = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        proxy.url,
        { method: 'POST', ca: proxyCa, headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{"jsonrpc": "2.0", "id": 1, "method": ');
    });
    expect(garbage).toBe(400);
  });
});
