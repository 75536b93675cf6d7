// One MCP session through belay: messages from the client (the agent's MCP
// host) go to the upstream server and back, unchanged — every method,
// notification, progress, cancellation, and the upstream's own requests
// (sampling, elicitation, roots) — except that a tools/call is judged by the
// ToolGuard before it may be sent and its result screened before the client
// sees it, and a tools/list answer leaves out tools policy denies by name.
// Transport-agnostic: stdio on either side, or streamable HTTP.

import { randomBytes } from 'node:crypto';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JsonObject } from '../contract/index.js';
import type { Logger } from '../observe/log.js';
import type { MalformedLine } from './framing.js';
import type { Judgement, Ticket, ToolGuard } from './guard.js';
import {
  asNotification,
  asRequest,
  asResponse,
  ErrorCode,
  errorResponse,
  idKey,
  type JSONRPCMessage,
  kindOf,
  notification,
  type Request,
  type RequestId,
  type Response,
  resultResponse,
  request as rpcRequest,
} from './jsonrpc.js';
import { failClosed, upstreamTimeout } from './results.js';

/** How long a forwarded tools/call may go without an answer or progress. */
export const DEFAULT_CALL_TIMEOUT_MS = 300_000;
/** How long belay waits for the upstream to answer its own tools/list. */
const OWN_REQUEST_MS = 30_000;

export interface RelayOptions {
  /** Faces the MCP host (the agent). */
  client: Transport;
  /** Faces the upstream MCP server. */
  upstream: Transport;
  guard: ToolGuard;
  log: Logger;
  callTimeoutMs?: number;
  /** The upstream went away (exited, closed): every pending request has been answered. */
  onUpstreamGone?: (reason: string) => void;
  /** The client went away. */
  onClientGone?: () => void;
}

/** A client request the relay has not answered yet. */
interface Pending {
  id: RequestId;
  method: string;
  progressToken?: string | number;
  /** tools/call: judging (nothing sent upstream yet) or sent. */
  stage: 'judging' | 'sent';
  abort: AbortController;
  /** Handles the upstream's answer; default: pass it on. */
  answer?: (response: Response) => void;
  timer?: NodeJS.Timeout;
}

export class McpRelay {
  readonly #o: RelayOptions;
  readonly #client: Transport;
  readonly #upstream: Transport;
  readonly #guard: ToolGuard;
  readonly #log: Logger;
  readonly #callTimeoutMs: number;
  /** Client requests in flight, by id. */
  readonly #pending = new Map<string, Pending>();
  /** Requests the upstream sent the client, awaiting the client's answer. */
  readonly #upstreamAsked = new Set<string>();
  /** belay's own requests to the upstream. */
  readonly #own = new Map<string, (r: Response) => void>();
  readonly #ownPrefix = `belay-${randomBytes(4).toString('hex')}-`;
  #ownSeq = 0;
  #initialized = false;
  #gone: string | null = null;
  /** close() was called: the transports closing is not news. */
  #closing = false;

  constructor(options: RelayOptions) {
    this.#o = options;
    this.#client = options.client;
    this.#upstream = options.upstream;
    this.#guard = options.guard;
    this.#log = options.log;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /** Wires both transports and starts them (upstream first, so the client's first message has somewhere to go). */
  async start(): Promise<void> {
    this.#upstream.onmessage = (m) => this.#fromUpstream(m);
    this.#upstream.onclose = () => this.upstreamGone('the upstream MCP server closed the connection');
    this.#upstream.onerror = (err) => this.#log.warn({ err: err.message }, 'upstream transport error');
    this.#client.onmessage = (m) => this.#fromClient(m);
    this.#client.onclose = () => this.#clientGone();
    this.#client.onerror = (err) => this.#log.warn({ err: err.message }, 'client transport error');
    await this.#upstream.start();
    await this.#client.start();
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const p of this.#pending.values()) {
      p.abort.abort();
      clearTimeout(p.timer);
    }
    this.#pending.clear();
    await Promise.allSettled([this.#client.close(), this.#upstream.close()]);
  }

  // --- from the client ------------------------------------------------------------

  #fromClient(message: JSONRPCMessage): void {
    const kind = kindOf(message);
    if (kind === 'response') {
      this.#clientAnswered(asResponse(message), message);
      return;
    }
    if (kind === 'notification') {
      this.#clientNotified(asNotification(message).method, asNotification(message).params, message);
      return;
    }
    const req = asRequest(message);
    const key = idKey(req.id);
    if (this.#pending.has(key)) {
      void this.#toClient(errorResponse(req.id, ErrorCode.InvalidRequest, `request id ${JSON.stringify(req.id)} is already in use by a request in flight`));
      return;
    }
    if (this.#gone) {
      void this.#toClient(errorResponse(req.id, ErrorCode.InternalError, this.#gone));
      return;
    }
    const meta = (req.params?._meta ?? undefined) as { progressToken?: string | number } | undefined;
    const pending: Pending = { id: req.id, method: req.method, stage: 'sent', abort: new AbortController() };
    if (meta?.progressToken !== undefined) pending.progressToken = meta.progressToken;
    this.#pending.set(key, pending);
    if (req.method === 'tools/call') {
      pending.stage = 'judging';
      void this.#toolsCall(req, pending);
      return;
    }
    if (req.method === 'tools/list') pending.answer = (r) => void this.#toolsListAnswered(pending, r);
    if (req.method === 'initialize') pending.answer = (r) => this.#initializeAnswered(pending, r);
    void this.#toUpstream(message, pending);
  }

  #clientNotified(method: string, params: Record<string, unknown> | undefined, message: JSONRPCMessage): void {
    if (method === 'notifications/initialized') this.#initialized = true;
    if (method === 'notifications/cancelled') {
      const id = params?.requestId as RequestId | undefined;
      const p = id === undefined ? undefined : this.#pending.get(idKey(id));
      if (p) {
        p.abort.abort();
        this.#settle(p);
        // A call still being judged was never sent: the upstream has nothing to cancel.
        if (p.stage === 'judging') return;
      }
    }
    void this.#upstream.send(message).catch((err) => this.#log.warn({ err: (err as Error).message, method }, 'could not pass a notification upstream'));
  }

  #clientAnswered(r: Response, message: JSONRPCMessage): void {
    if (r.id !== undefined) this.#upstreamAsked.delete(idKey(r.id));
    void this.#upstream.send(message).catch((err) => this.#log.warn({ err: (err as Error).message }, 'could not pass an answer upstream'));
  }

  /** A line from the client that is not a message (stdio): answered with a JSON-RPC error, then the relay goes on. */
  clientMalformed(line: MalformedLine): void {
    this.#log.warn({ reason: line.reason, bytes: line.bytes }, 'malformed message from the MCP client');
    if (line.response) {
      // A broken answer to a request the upstream sent: the upstream gets an error instead of waiting forever.
      if (line.id !== null && this.#upstreamAsked.delete(idKey(line.id))) {
        void this.#upstream
          .send(errorResponse(line.id, ErrorCode.InternalError, `the MCP client's answer could not be read: ${line.reason}`))
          .catch(() => undefined);
      }
      return;
    }
    void this.#toClient(errorResponse(line.id, line.code, line.reason));
  }

  // --- tools/call -------------------------------------------------------------------

  async #toolsCall(req: Request, pending: Pending): Promise<void> {
    const params = (req.params ?? {}) as { name?: unknown; arguments?: unknown; _meta?: unknown };
    if (typeof params.name !== 'string' || params.name === '') {
      this.#answer(pending, errorResponse(req.id, ErrorCode.InvalidParams, 'tools/call needs params.name, the tool to call'));
      return;
    }
    if (params.arguments !== undefined && (typeof params.arguments !== 'object' || params.arguments === null || Array.isArray(params.arguments))) {
      this.#answer(pending, errorResponse(req.id, ErrorCode.InvalidParams, 'tools/call params.arguments must be an object'));
      return;
    }
    const name = params.name;
    const args = (params.arguments ?? {}) as JsonObject;
    let judgement: Judgement;
    try {
      await this.#ensureCatalog(name, pending.abort.signal);
      judgement = await this.#guard.judge({
        name,
        arguments: args,
        signal: pending.abort.signal,
        ...(pending.progressToken !== undefined ? { progress: (progress, total, message) => this.#progress(pending, progress, total, message) } : {}),
      });
    } catch (err) {
      if (pending.abort.signal.aborted) return;
      judgement = { kind: 'answer', result: failClosed(name, err instanceof Error ? err : new Error(String(err))) };
    }
    if (pending.abort.signal.aborted || !this.#pending.has(idKey(req.id))) return;
    if (judgement.kind === 'answer') {
      this.#answer(pending, resultResponse(req.id, judgement.result));
      return;
    }
    const ticket = judgement.ticket;
    pending.stage = 'sent';
    pending.answer = (r) => void this.#toolsCallAnswered(pending, ticket, r);
    this.#armTimeout(pending, ticket);
    const forwarded = { ...req, params: { ...req.params, arguments: ticket.arguments } } as unknown as JSONRPCMessage;
    await this.#toUpstream(forwarded, pending);
  }

  /** Learns the upstream's tools (for schemas and RBAC metadata) before the first call, if the client did not list them. */
  async #ensureCatalog(name: string, signal: AbortSignal): Promise<void> {
    if (this.#guard.catalog.get(name) || this.#guard.catalog.known || !this.#initialized) return;
    let cursor: string | undefined;
    for (let page = 0; page < 20 && !signal.aborted; page++) {
      const r = await this.#ownRequest('tools/list', cursor ? { cursor } : {});
      const tools = (r.result?.tools ?? []) as JsonObject[];
      this.#guard.catalog.learn(tools as never);
      cursor = typeof r.result?.nextCursor === 'string' ? r.result.nextCursor : undefined;
      if (!cursor || r.error) return;
    }
  }

  #armTimeout(pending: Pending, ticket: Ticket): void {
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      if (!this.#pending.has(idKey(pending.id))) return;
      this.#log.warn({ tool: ticket.name, ms: this.#callTimeoutMs }, 'the upstream did not answer a tools/call in time; cancelling it');
      void this.#upstream
        .send(notification('notifications/cancelled', { requestId: pending.id, reason: `belay: no answer within ${this.#callTimeoutMs} ms` }))
        .catch(() => undefined);
      this.#answer(pending, resultResponse(pending.id, upstreamTimeout(ticket.name, this.#callTimeoutMs)));
    }, this.#callTimeoutMs);
    pending.timer.unref?.();
  }

  async #toolsCallAnswered(pending: Pending, ticket: Ticket, r: Response): Promise<void> {
    clearTimeout(pending.timer);
    let screened: JsonObject;
    try {
      // A protocol error's message (unknown tool, bad arguments) can quote data too: screened like a result.
      const result = r.error ? { content: [{ type: 'text', text: r.error.message }] } : ((r.result ?? {}) as JsonObject);
      screened = await this.#guard.screen(ticket, result, pending.abort.signal);
    } catch {
      return; // cancelled by the client meanwhile
    }
    if (!r.error) return this.#answer(pending, resultResponse(r.id, screened));
    const text = (screened.content as { text?: unknown }[] | undefined)?.[0]?.text;
    if (screened.isError !== true && typeof text === 'string') this.#answer(pending, errorResponse(r.id, r.error.code, text));
    else this.#answer(pending, resultResponse(r.id, screened));
  }

  // --- other answers ----------------------------------------------------------------

  async #toolsListAnswered(pending: Pending, r: Response): Promise<void> {
    const tools = r.result?.tools;
    if (r.error || !Array.isArray(tools)) return this.#answer(pending, r as unknown as JSONRPCMessage);
    this.#guard.catalog.learn(tools as never);
    const shown = await this.#guard.visible(tools as never, pending.abort.signal);
    this.#answer(pending, resultResponse(r.id, { ...r.result, tools: shown }));
  }

  #initializeAnswered(pending: Pending, r: Response): void {
    const info = (r.result?.serverInfo ?? {}) as { name?: unknown; version?: unknown };
    if (typeof info.name === 'string') this.#guard.server = info.name;
    // A streamable HTTP upstream wants the negotiated version on every later request.
    if (typeof r.result?.protocolVersion === 'string') this.#upstream.setProtocolVersion?.(r.result.protocolVersion);
    this.#log.info({ server: info.name, version: info.version, protocol: r.result?.protocolVersion }, 'upstream MCP server initialized');
    this.#answer(pending, r as unknown as JSONRPCMessage);
  }

  // --- from the upstream ------------------------------------------------------------------

  #fromUpstream(message: JSONRPCMessage): void {
    const kind = kindOf(message);
    if (kind === 'response') {
      const r = asResponse(message);
      const key = r.id === undefined ? '' : idKey(r.id);
      const own = this.#own.get(key);
      if (own) {
        this.#own.delete(key);
        own(r);
        return;
      }
      const pending = this.#pending.get(key);
      if (pending?.stage !== 'sent') {
        this.#log.debug({ id: r.id }, 'an answer from the upstream nobody is waiting for (cancelled or timed out); dropped');
        return;
      }
      if (pending.answer) pending.answer(r);
      else this.#answer(pending, message);
      return;
    }
    if (kind === 'request') {
      const req = asRequest(message);
      this.#upstreamAsked.add(idKey(req.id));
      void this.#toClient(message, this.#relatedTo(req.params)).catch(() => undefined);
      return;
    }
    const n = asNotification(message);
    if (n.method === 'notifications/tools/list_changed') this.#guard.catalog.clear();
    const related = this.#relatedTo(n.params);
    if (n.method === 'notifications/progress' && related !== undefined) {
      // Progress keeps a long call alive.
      const p = this.#pending.get(idKey(related));
      if (p?.timer) p.timer.refresh();
    }
    void this.#toClient(message, related).catch(() => undefined);
  }

  /** A line from the upstream that is not a message: a request waiting for it is answered with an error. */
  upstreamMalformed(line: MalformedLine): void {
    this.#log.warn({ reason: line.reason, bytes: line.bytes }, 'malformed message from the upstream MCP server');
    if (line.id === null) return;
    const key = idKey(line.id);
    const own = this.#own.get(key);
    if (own) {
      this.#own.delete(key);
      own(asResponse(errorResponse(line.id, ErrorCode.InternalError, line.reason)));
      return;
    }
    const pending = this.#pending.get(key);
    if (pending && pending.stage === 'sent' && line.response) {
      const text = line.oversized
        ? `the MCP server's answer to ${pending.method} could not be read: ${line.reason}; ask for less (a namespace, a selector, fewer lines)`
        : `the MCP server's answer to ${pending.method} could not be read: ${line.reason}`;
      this.#answer(pending, errorResponse(line.id, ErrorCode.InternalError, text));
      return;
    }
    if (!line.response) void this.#upstream.send(errorResponse(line.id, line.code, line.reason)).catch(() => undefined);
  }

  /** The upstream is gone: every request still waiting gets an error, and the owner is told. */
  upstreamGone(reason: string): void {
    if (this.#gone || this.#closing) return;
    this.#gone = reason;
    this.#log.warn({ reason }, 'upstream MCP server gone');
    for (const p of [...this.#pending.values()]) {
      p.abort.abort();
      this.#answer(p, errorResponse(p.id, ErrorCode.InternalError, `${reason}; belay did not send this request anywhere else`));
    }
    for (const [key, own] of this.#own) {
      this.#own.delete(key);
      own({ jsonrpc: '2.0', id: key, error: { code: ErrorCode.InternalError, message: reason } });
    }
    this.#o.onUpstreamGone?.(reason);
  }

  #clientGone(): void {
    if (this.#closing) return;
    for (const p of this.#pending.values()) p.abort.abort();
    this.#o.onClientGone?.();
  }

  // --- sending ----------------------------------------------------------------------

  async #toUpstream(message: JSONRPCMessage, pending: Pending): Promise<void> {
    try {
      await this.#upstream.send(message);
    } catch (err) {
      this.#answer(pending, errorResponse(pending.id, ErrorCode.InternalError, `belay could not send this to the MCP server: ${(err as Error).message}`));
    }
  }

  /** Answers a client request once, and forgets it. */
  #answer(pending: Pending, message: JSONRPCMessage): void {
    if (!this.#settle(pending)) return;
    void this.#toClient(message).catch((err) => this.#log.warn({ err: (err as Error).message }, 'could not answer the MCP client'));
  }

  /** Forgets a pending request; false when it was already answered. */
  #settle(pending: Pending): boolean {
    const key = idKey(pending.id);
    if (this.#pending.get(key) !== pending) return false;
    this.#pending.delete(key);
    clearTimeout(pending.timer);
    return true;
  }

  #progress(pending: Pending, progress: number, total: number, message: string): void {
    if (pending.progressToken === undefined || !this.#pending.has(idKey(pending.id))) return;
    void this.#toClient(notification('notifications/progress', { progressToken: pending.progressToken, progress, total, message }), pending.id).catch(
      () => undefined,
    );
  }

  /**
   * Which client request an upstream message belongs to, so an HTTP client
   * gets it on that request's stream: the owner of its progress token, else
   * the only request in flight.
   */
  #relatedTo(params: Record<string, unknown> | undefined): RequestId | undefined {
    const token = params?.progressToken ?? (params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
    if (token !== undefined) {
      for (const p of this.#pending.values()) if (p.progressToken === token) return p.id;
    }
    const sent = [...this.#pending.values()].filter((p) => p.stage === 'sent');
    return sent.length === 1 ? sent[0]!.id : undefined;
  }

  async #toClient(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> {
    const options: TransportSendOptions | undefined = relatedRequestId === undefined ? undefined : { relatedRequestId };
    try {
      await this.#client.send(message, options);
    } catch (err) {
      // The request's stream may have closed meanwhile (HTTP): send it unattached.
      if (options) await this.#client.send(message);
      else throw err;
    }
  }

  #ownRequest(method: string, params: Record<string, unknown>): Promise<Response> {
    const id = `${this.#ownPrefix}${++this.#ownSeq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#own.delete(idKey(id));
        resolve({ jsonrpc: '2.0', id, error: { code: ErrorCode.RequestTimeout, message: `no answer to ${method} within ${OWN_REQUEST_MS} ms` } });
      }, OWN_REQUEST_MS);
      this.#own.set(idKey(id), (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#upstream.send(rpcRequest(id, method, params)).catch((err) => {
        clearTimeout(timer);
        this.#own.delete(idKey(id));
        resolve({ jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message: (err as Error).message } });
      });
    });
  }
}
