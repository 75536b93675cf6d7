// The MCP proxy's client of belay's agent gate API: evaluate a tool call,
// redact a tool result, follow an approval. Every failure is a GatewayError
// that says whose fault it was, so the proxy can refuse the call (fail
// closed) with a sentence a person can act on.

import http from 'node:http';
import https from 'node:https';
import type { JsonObject, ToolTarget } from '../contract/index.js';

export interface GatewayClientOptions {
  /** https://host:port of the gateway (http:// only for tests). */
  url: string;
  /** PEM of the CA that signed the gateway's certificate; absent: the system's roots. */
  ca?: Buffer;
  /** The agent's bearer token, read when a request is made (a projected token file rotates). */
  token: () => string;
  /** Budget of one request, long-polls excluded. */
  timeoutMs?: number;
  /** Largest answer read. */
  maxResponseBytes?: number;
}

/** The target a tool call acts on, as the gate API takes it (`target` of POST /v1/tool-calls:evaluate). */
export type { ToolTarget };

export interface Reason {
  rule: string;
  message: string;
  severity?: string;
}

export interface ApprovalRef {
  id: string | null;
  phase: 'Pending' | 'Approved' | 'Rejected' | 'Refused';
  decidedBy?: string;
  message?: string;
  url?: string;
}

export interface EvaluateRequest {
  /**
   * `object`: the object the call writes when its arguments only imply it (a
   * Scale for resources_scale). Not read by the gateway yet (src/mcp/README.md).
   */
  tool: { name: string; arguments: JsonObject; target: ToolTarget; object?: JsonObject };
  context?: JsonObject;
  onBehalfOf?: string;
  requestId: string;
  dryRun?: boolean;
}

/**
 * A compliant version of the call that policy proposes (gateway side:
 * pending, see src/mcp/README.md): the fixed manifest and the arguments that
 * carry it.
 */
export interface ProposedFix {
  patch: JsonObject[];
  object: JsonObject;
  arguments: JsonObject;
}

export interface EvaluateResponse {
  decision: 'allow' | 'deny' | 'defer';
  message?: string;
  reasons: Reason[];
  warnings: string[];
  mode: string | null;
  approval: ApprovalRef | null;
  revision: string;
  /** The call to run: the caller's, or the approver's edit of it. */
  tool?: { name: string; arguments: JsonObject; target?: ToolTarget };
  edited?: boolean;
  fix?: ProposedFix | null;
  error?: { code: string; message: string };
}

export interface RedactRequest {
  tool: { name: string; arguments: JsonObject; target: ToolTarget };
  result: unknown;
  format?: 'json' | 'yaml' | 'text';
  context?: JsonObject;
  requestId: string;
  approvalId?: string;
}

export interface RedactResponse {
  decision: 'allow' | 'deny' | 'defer';
  message?: string;
  reasons: Reason[];
  warnings: string[];
  approval: ApprovalRef | null;
  result: unknown;
  redactions: { pointer: string; reason: string }[];
}

export interface ApprovalView {
  id: string;
  phase: 'Pending' | 'Approved' | 'Rejected' | 'Expired' | 'Consumed';
  decidedBy: string | null;
  message: string | null;
  arguments: JsonObject | null;
  edited: boolean;
}

export type GatewayErrorKind =
  /** No connection: refused, DNS, TLS. */
  | 'unreachable'
  /** The gateway refused the token (401/403). */
  | 'unauthorized'
  /** The gateway said the request was wrong (4xx). */
  | 'rejected'
  /** The gateway could not answer (5xx, 503 without a bundle). */
  | 'unavailable'
  | 'timeout'
  /** The answer was not what the API documents. */
  | 'malformed'
  | 'cancelled';

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly status: number | undefined;

  constructor(kind: GatewayErrorKind, message: string, status?: number) {
    super(message);
    this.name = 'GatewayError';
    this.kind = kind;
    this.status = status;
  }
}

/** What the proxy needs of the gateway; the HTTP client below, or a fake in tests. */
export interface GateApi {
  evaluate(body: EvaluateRequest, signal?: AbortSignal): Promise<EvaluateResponse>;
  redact(body: RedactRequest, signal?: AbortSignal): Promise<RedactResponse>;
  /** Long-polls until the phase differs from `phase` or `waitMs` passed. */
  approval(id: string, options: { waitMs: number; phase?: string }, signal?: AbortSignal): Promise<ApprovalView>;
  /** Resolves when the gateway accepts `token` (HTTP sessions are checked once at start and then now and then). */
  checkToken(token: string, signal?: AbortSignal): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RESPONSE = 16 * 1024 * 1024;

export class GatewayClient implements GateApi {
  readonly url: string;
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #token: () => string;
  readonly #timeoutMs: number;
  readonly #max: number;

  constructor(options: GatewayClientOptions) {
    this.#base = new URL(options.url);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') throw new Error(`--gateway must be an https:// URL, got ${options.url}`);
    this.url = this.#base.toString().replace(/\/$/, '');
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ...(options.ca ? { ca: options.ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
  }

  async evaluate(body: EvaluateRequest, signal?: AbortSignal, token?: () => string): Promise<EvaluateResponse> {
    const r = await this.#call('POST', '/v1/tool-calls:evaluate', { body, signal, token });
    if (!isDecision(r.decision)) throw malformed('tool-calls:evaluate', 'decision');
    return { reasons: [], warnings: [], mode: null, approval: null, revision: '', ...r } as unknown as EvaluateResponse;
  }

  async redact(body: RedactRequest, signal?: AbortSignal, token?: () => string): Promise<RedactResponse> {
    const r = await this.#call('POST', '/v1/tool-results:redact', { body, signal, token });
    if (!isDecision(r.decision)) throw malformed('tool-results:redact', 'decision');
    return { reasons: [], warnings: [], approval: null, redactions: [], ...r } as unknown as RedactResponse;
  }

  async approval(id: string, { waitMs, phase }: { waitMs: number; phase?: string }, signal?: AbortSignal, token?: () => string): Promise<ApprovalView> {
    const query = new URLSearchParams();
    if (waitMs > 0) query.set('wait', `${Math.ceil(waitMs / 1000)}s`);
    if (phase) query.set('phase', phase);
    const path = `/v1/approvals/${id.split('/').map(encodeURIComponent).join('/')}${query.size > 0 ? `?${query}` : ''}`;
    const r = await this.#call('GET', path, { signal, token, timeoutMs: this.#timeoutMs + waitMs });
    if (typeof r.phase !== 'string') throw malformed('approvals', 'phase');
    return { decidedBy: null, message: null, arguments: null, edited: false, ...r } as unknown as ApprovalView;
  }

  async checkToken(token: string, signal?: AbortSignal): Promise<void> {
    const r = await this.#call('GET', '/v1/whoami', { signal, token: () => token });
    if (typeof r.username !== 'string') throw malformed('whoami', 'username');
  }

  /** The same gateway (and connection pool), as the agent whose token this is: one per HTTP session. */
  as(token: () => string): GateApi {
    return {
      evaluate: (body, signal) => this.evaluate(body, signal, token),
      redact: (body, signal) => this.redact(body, signal, token),
      approval: (id, o, signal) => this.approval(id, o, signal, token),
      checkToken: (t, signal) => this.checkToken(t, signal),
    };
  }

  close(): void {
    this.#agent.destroy();
  }

  #call(
    method: 'GET' | 'POST',
    path: string,
    o: { body?: unknown; signal?: AbortSignal | undefined; timeoutMs?: number; token?: (() => string) | undefined },
  ): Promise<Record<string, unknown>> {
    const url = new URL(path, this.#base);
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body), 'utf8');
    const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(new GatewayError('cancelled', 'the call was cancelled'));
      let token: string;
      try {
        token = (o.token ?? this.#token)();
      } catch (err) {
        return reject(new GatewayError('unauthorized', `the agent token cannot be read: ${(err as Error).message}`));
      }
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, {
        method,
        agent: this.#agent,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      });
      const timer = setTimeout(
        () => req.destroy(new GatewayError('timeout', `belay's gateway at ${this.url} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = () => req.destroy(new GatewayError('cancelled', 'the call was cancelled'));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
      };
      req.on('error', (err) => {
        done();
        reject(err instanceof GatewayError ? err : new GatewayError('unreachable', `belay's gateway at ${this.url} is unreachable: ${describe(err)}`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.#max) req.destroy(new GatewayError('malformed', `belay's gateway answered more than ${this.#max} bytes`));
          else chunks.push(c);
        });
        res.on('error', () => undefined);
        res.on('end', () => {
          done();
          const status = res.statusCode ?? 0;
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          const message = errorMessage(body) ?? `HTTP ${status}`;
          if (status >= 200 && status < 300) {
            if (typeof body !== 'object' || body === null || Array.isArray(body)) {
              return reject(new GatewayError('malformed', `belay's gateway answered ${method} ${url.pathname} with something other than a JSON object`));
            }
            return resolve(body as Record<string, unknown>);
          }
          if (status === 401 || status === 403) return reject(new GatewayError('unauthorized', `belay's gateway refused the agent token: ${message}`, status));
          if (status >= 500) return reject(new GatewayError('unavailable', `belay's gateway could not answer: ${message}`, status));
          reject(new GatewayError('rejected', `belay's gateway refused the request: ${message}`, status));
        });
      });
      req.end(payload);
    });
  }
}

function isDecision(v: unknown): v is 'allow' | 'deny' | 'defer' {
  return v === 'allow' || v === 'deny' || v === 'defer';
}

function malformed(endpoint: string, field: string): GatewayError {
  return new GatewayError('malformed', `belay's gateway answered ${endpoint} without a valid "${field}"`);
}

function errorMessage(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof e?.message === 'string' ? e.message : undefined;
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} (${err.message})` : err.message;
}
