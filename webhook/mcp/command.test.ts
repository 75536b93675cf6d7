// `belay mcp` as MCP hosts run it: a process speaking MCP on stdio, its
// upstream a child process. Raw JSON-RPC lines, so malformed ones can be
// sent; a real gateway behind it.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, ROOT, startGatewayFixture } from '../../src/testkit/mcp/gateway.js';

let f: GatewayFixture;
beforeAll(async () => {
  f = await startGatewayFixture();
}, 60_000);
afterAll(async () => {
  await f?.close();
});

const FAKE = path.join(ROOT, 'src/testkit/mcp/fake-kube-server.ts');
/** tsx resolved from here, so a process may run in another directory. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const BELAY_MCP = path.join(ROOT, 'src/testkit/mcp/belay-mcp.ts');
const SLOW = 60_000;

interface Proc {
  child: ChildProcess;
  send(line: string): void;
  /** The next message with this id (or any message, without one). */
  next(id?: number | string): Promise<Record<string, any>>;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function belayMcp(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Proc {
  const child = spawn(process.execPath, ['--import', TSX, BELAY_MCP, 'mcp', ...args], {
    cwd,
    env: { ...process.env, BELAY_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exit = new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
  const queue: Record<string, any>[] = [];
  const waiters: ((m: Record<string, any>) => boolean)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line);
    const i = waiters.findIndex((w) => w(m));
    if (i === -1) queue.push(m);
    else waiters.splice(i, 1);
  });
  return {
    child,
    exit,
    send: (line) => child.stdin!.write(`${line}\n`),
    next: (id) =>
      new Promise((resolve) => {
        const match = (m: Record<string, any>) => id === undefined || m.id === id;
        const i = queue.findIndex(match);
        if (i !== -1) return resolve(queue.splice(i, 1)[0]!);
        waiters.push((m) => {
          if (!match(m)) return false;
          resolve(m);
          return true;
        });
      }),
  };
}

const gatewayArgs = () => ['--gateway', f.url, '--ca', f.caFile, '--token-file', f.agentTokenFile];
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

describe('belay mcp on stdio', () => {
  it(
    'answers malformed JSON-RPC with an error and keeps serving',
    async () => {
      const p = belayMcp([...gatewayArgs(), '--', process.execPath, '--import', TSX, FAKE]);
      p.send(INIT);
      expect((await p.next(1)).result.serverInfo.name).toBe('kubernetes-mcp-server');
      p.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      p.send('{"jsonrpc": "2.0", "id": 2, "method": "tools/list"');
      expect(await p.next(2)).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32700, message: expect.stringMatching(/^not JSON/) } });
      p.send('garbage');
      expect(await p.next()).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^not JSON/) } });
      p.send('{"jsonrpc": "2.0", "id": 3, "method": 42}');
      expect(await p.next(3)).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/^not a JSON-RPC 2.0 message/) } });
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'pods_list', arguments: {} } }));
      expect((await p.next(4)).result.content[0].text).toContain('web-1');
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'pods_list', arguments: [] } }));
      expect((await p.next(5)).error).toMatchObject({ code: -32602, message: 'tools/call params.arguments must be an object' });
      p.child.stdin!.end();
      expect((await p.exit).code).toBe(0);
    },
    SLOW,
  );

  it(
    'exits with a clear message when the upstream server dies, answering what was in flight',
    async () => {
      const p = belayMcp([...gatewayArgs(), '--', process.execPath, '--import', TSX, FAKE], { FAKE_CRASH_ON: 'pods_list' });
      p.send(INIT);
      await p.next(1);
      p.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'pods_list', arguments: {} } }));
      const answer = await p.next(2);
      expect(answer.error?.message).toMatch(
        /^the upstream MCP server \(.*node\) exited with code 3; its last words: fake kubernetes-mcp-server ready \| fake kubernetes-mcp-server: crashing on pods_list; belay did not send this request anywhere else$/,
      );
      const { code, stderr } = await p.exit;
      expect(code).toBe(1);
      expect(stderr).toMatch(/belay mcp: the upstream MCP server \(.*\) exited with code 3.*; stopping/);
    },
    SLOW,
  );

  it(
    'exits with a clear message when the upstream cannot be started',
    async () => {
      const p = belayMcp([...gatewayArgs(), '--', 'no-such-mcp-server-binary']);
      const { code, stderr } = await p.exit;
      expect(code).toBe(1);
      expect(stderr).toContain(
        'belay mcp: the upstream MCP server (no-such-mcp-server-binary) could not be started (ENOENT): is no-such-mcp-server-binary installed and on PATH?',
      );
    },
    SLOW,
  );

  it(
    'refuses to start without an upstream, or without a token',
    async () => {
      const none = belayMcp(gatewayArgs());
      expect(await none.exit).toMatchObject({ code: 2, stderr: expect.stringContaining('no upstream MCP server: give its command after --') });
      // Elsewhere than the repository, so no development token is found either.
      const noToken = belayMcp(['--gateway', f.url, '--', 'true'], { BELAY_TOKEN: '', BELAY_TOKEN_FILE: '' }, f.dir);
      expect(await noToken.exit).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("belay mcp needs the agent's bearer token for the gateway: --token-file FILE or BELAY_TOKEN"),
      });
    },
    SLOW,
  );
});
