// One proxied MCP session: the client-facing transport (our stdio, or one
// streamable HTTP session), an upstream of its own (a child process speaking
// stdio, or a streamable HTTP client to a shared server), the ToolGuard and
// the relay between them. `closed` settles once, with why.

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LineTransport } from './framing.js';
import { type GuardOptions, ToolGuard } from './guard.js';
import { McpRelay } from './relay.js';
import { describeExit, spawnUpstream, type UpstreamProcess } from './upstream.js';

export type UpstreamSpec =
  | { kind: 'command'; command: string; args: readonly string[]; env?: NodeJS.ProcessEnv; stderr?: NodeJS.WritableStream | null }
  | { kind: 'url'; url: string; headers?: Record<string, string> };

export interface SessionOptions extends GuardOptions {
  client: Transport;
  upstream: UpstreamSpec;
  callTimeoutMs?: number;
  maxLineBytes?: number;
}

export interface Session {
  readonly relay: McpRelay;
  /** Resolves with the reason when either side went away or close() was called. */
  readonly closed: Promise<string>;
  /** 0 when the client left, 1 when the upstream failed. */
  readonly exitCode: () => number;
  close(reason?: string): Promise<void>;
}

export async function openSession(o: SessionOptions): Promise<Session> {
  let child: UpstreamProcess | undefined;
  let upstream: Transport;
  if (o.upstream.kind === 'command') {
    child = spawnUpstream(o.upstream.command, o.upstream.args, {
      ...(o.upstream.env ? { env: o.upstream.env } : {}),
      ...(o.upstream.stderr !== undefined ? { stderr: o.upstream.stderr } : {}),
      ...(o.maxLineBytes ? { maxLineBytes: o.maxLineBytes } : {}),
    });
    upstream = child.transport;
  } else {
    upstream = new StreamableHTTPClientTransport(new URL(o.upstream.url), o.upstream.headers ? { requestInit: { headers: o.upstream.headers } } : {});
  }

  let settle!: (reason: string) => void;
  const closed = new Promise<string>((r) => (settle = r));
  let code = 0;
  let closing = false;
  const { client: _client, upstream: _upstream, callTimeoutMs: _timeout, maxLineBytes: _max, ...guardOptions } = o;
  const guard = new ToolGuard(guardOptions);
  const relay = new McpRelay({
    client: o.client,
    upstream,
    guard,
    log: o.log,
    ...(o.callTimeoutMs ? { callTimeoutMs: o.callTimeoutMs } : {}),
    onUpstreamGone: (reason) => {
      code = 1;
      void close(reason);
    },
    onClientGone: () => void close('the MCP client closed the connection'),
  });

  const close = async (reason = 'closed'): Promise<void> => {
    if (closing) return;
    closing = true;
    await relay.close();
    if (child) await child.stop();
    else await (upstream as StreamableHTTPClientTransport).terminateSession?.().catch(() => undefined);
    settle(reason);
  };

  if (child) {
    const command = o.upstream.kind === 'command' ? o.upstream.command : '';
    const proc = child;
    proc.transport.onmalformed = (line) => relay.upstreamMalformed(line);
    void proc.exited.then((e) => {
      if (!closing) relay.upstreamGone(describeExit(e, proc.stderrTail(), command));
    });
  }
  // Over stdio a line that is not a message is answered; HTTP transports answer those themselves.
  if (o.client instanceof LineTransport) o.client.onmalformed = (line) => relay.clientMalformed(line);
  try {
    await relay.start();
    if (child) {
      // Its stdout ends just before it exits: give the exit a moment, so the agent reads how it ended.
      const proc = child;
      const closedStream = proc.transport.onclose;
      proc.transport.onclose = () => {
        const grace = new Promise((r) => setTimeout(r, 2_000).unref());
        void Promise.race([proc.exited, grace]).then(() => closedStream?.());
      };
    }
  } catch (err) {
    code = 1;
    await close(`the upstream MCP server could not be reached: ${(err as Error).message}`);
  }
  return { relay, closed, exitCode: () => code, close };
}
