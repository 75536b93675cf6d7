// `belay mcp --listen`: the proxy beside a shared MCP server, speaking MCP's
// streamable HTTP over TLS. Each MCP session is opened by an agent with its
// own bearer token (checked by the gateway: a TokenReview in a cluster, the
// agent token file locally), stays bound to that token, and gets an upstream
// of its own (a session on --upstream-url, or a child process of the
// upstream command). HTTP only: the session itself is src/mcp/session.ts.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { bearerToken } from '../../src/auth/bearer.js';
import { BelayError } from '../../src/errors.js';
import { type GateApi, GatewayError } from '../../src/mcp/gateway.js';
import { ErrorCode } from '../../src/mcp/jsonrpc.js';
import { openSession, type Session, type SessionOptions } from '../../src/mcp/session.js';
import type { Logger } from '../../src/observe/log.js';
import { ensureDevCertificates, tlsPaths } from '../../src/tls/devcerts.js';
import { type RunningServer, serve } from '../server.js';

export const MCP_PATH = '/mcp';

export interface HttpProxyOptions {
  host: string;
  port: number;
  tlsDir: string;
  /** Everything a session needs but its client transport and the gateway (which is per token). */
  session: Omit<SessionOptions, 'client' | 'gate'>;
  /** The gateway, as the agent whose token it is. */
  gateFor: (token: () => string) => GateApi;
  /** Used for sessions that send no token (a sidecar only its agent reaches); absent: a token is required. */
  fallbackToken?: () => string;
  /** Host names accepted in the Host header (DNS rebinding); default: the loopback names when listening on loopback. */
  allowedHosts?: string[];
  maxSessions?: number;
  /** A session unused this long is closed. */
  idleMs?: number;
  bodyLimit?: string;
  log: Logger;
}

export interface HttpProxy {
  readonly url: string;
  readonly sessions: () => number;
  close(): Promise<void>;
}

interface Live {
  transport: StreamableHTTPServerTransport;
  session: Session;
  tokenDigest: Buffer;
  lastSeen: number;
  checkedAt: number;
}

/** How long a successful token check is trusted before the gateway is asked again. */
const RECHECK_MS = 60_000;
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

export async function startHttpProxy(o: HttpProxyOptions): Promise<HttpProxy> {
  const sessions = new Map<string, Live>();
  const log = o.log;
  const app = express();
  app.disable('x-powered-by');
  const loopback = o.host === '127.0.0.1' || o.host === 'localhost' || o.host === '::1';
  const hosts = o.allowedHosts ?? (loopback ? LOOPBACK : undefined);
  if (hosts) app.use(hostHeaderValidation(hosts));
  app.use(MCP_PATH, express.json({ limit: o.bodyLimit ?? '8mb', type: () => true }));

  const digest = (t: string) => createHash('sha256').update(t, 'utf8').digest();

  app.all(MCP_PATH, async function handle(req: Request, res: Response) {
    const id = req.get('mcp-session-id');
    try {
      const token = tokenOf(req, o.fallbackToken);
      if (id) {
        const live = sessions.get(id);
        if (!live) return rpcError(res, 404, ErrorCode.InvalidRequest, `no MCP session ${id} (it ended or never existed); initialize a new one`);
        const presented = digest(token);
        // A session stays with the token that opened it; a rotated token opens a new session.
        if (!timingSafeEqual(presented, live.tokenDigest)) return rpcError(res, 403, ErrorCode.InvalidRequest, 'this MCP session belongs to another token');
        if (Date.now() - live.checkedAt > RECHECK_MS) {
          await o.gateFor(() => token).checkToken(token);
          live.checkedAt = Date.now();
        }
        live.lastSeen = Date.now();
        await live.transport.handleRequest(req, res, req.body);
        return;
      }
      if (req.method !== 'POST' || !isInitialize(req.body)) {
        return rpcError(res, 400, ErrorCode.InvalidRequest, 'no Mcp-Session-Id header: start with an initialize request');
      }
      if (o.maxSessions && sessions.size >= o.maxSessions)
        return rpcError(res, 503, ErrorCode.InternalError, `too many MCP sessions (${o.maxSessions}); retry later`);
      const gate = o.gateFor(() => token);
      await gate.checkToken(token);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          sessions.set(sid, { transport, session, tokenDigest: digest(token), lastSeen: Date.now(), checkedAt: Date.now() });
          log.info({ session: sid, sessions: sessions.size }, 'MCP session opened');
        },
      });
      const session = await openSession({ ...o.session, client: transport, gate });
      void session.closed.then((reason) => {
        const sid = transport.sessionId;
        if (sid && sessions.get(sid)?.session === session) sessions.delete(sid);
        log.info({ session: sid, reason }, 'MCP session closed');
        void transport.close().catch(() => undefined);
      });
      await transport.handleRequest(req, res, req.body);
      // An initialize the transport refused opened no session: nothing should keep its upstream.
      if (!transport.sessionId) await session.close('the initialize request was refused');
    } catch (err) {
      answerError(res, err, log);
    }
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status ?? 400;
    rpcError(res, status, status === 413 ? ErrorCode.InvalidRequest : ErrorCode.ParseError, (err as Error).message ?? 'bad request');
  });

  const idle = setInterval(() => {
    const cutoff = Date.now() - (o.idleMs ?? 30 * 60_000);
    for (const live of sessions.values()) if (live.lastSeen < cutoff) void live.session.close('idle');
  }, 30_000);
  idle.unref();

  ensureDevCertificates(o.tlsDir);
  const server: RunningServer = await serve(app, { host: o.host, port: o.port, tls: tlsPaths(o.tlsDir), log });
  return {
    url: `${server.url}${MCP_PATH}`,
    sessions: () => sessions.size,
    async close() {
      clearInterval(idle);
      await Promise.allSettled([...sessions.values()].map((s) => s.session.close('the proxy is shutting down')));
      await server.close();
    },
  };
}

function tokenOf(req: Request, fallback: (() => string) | undefined): string {
  const header = req.get('authorization');
  if (!header && fallback) return fallback();
  return bearerToken(header);
}

function isInitialize(body: unknown): boolean {
  const one = Array.isArray(body) ? body[0] : body;
  return typeof one === 'object' && one !== null && (one as { method?: unknown }).method === 'initialize';
}

function answerError(res: Response, err: unknown, log: Logger): void {
  if (res.headersSent) return;
  if ((err instanceof BelayError && err.code === 'unauthorized') || (err instanceof GatewayError && err.kind === 'unauthorized')) {
    res.set('WWW-Authenticate', err instanceof GatewayError ? 'Bearer realm="belay", error="invalid_token"' : 'Bearer realm="belay"');
    rpcError(res, 401, ErrorCode.InvalidRequest, err.message);
  } else if (err instanceof GatewayError) {
    // The gateway cannot vouch for the token: no session (fail closed).
    rpcError(res, 503, ErrorCode.InternalError, `${err.message}; no MCP session is opened without the gateway`);
  } else {
    log.error({ err }, 'MCP request failed');
    rpcError(res, 500, ErrorCode.InternalError, 'internal error');
  }
}

function rpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}
