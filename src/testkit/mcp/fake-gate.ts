// Test support: a GateApi that answers as the test says and records what it
// was asked. The proxy's tests against the real gateway live in
// webhook/mcp/; this one is for the relay's own behaviour (fail closed,
// waiting, listing, screening) without a policy bundle.

import type { JsonObject } from '../../contract/index.js';
import type { ApprovalView, EvaluateRequest, EvaluateResponse, GateApi, GatewayError, RedactRequest, RedactResponse } from '../../mcp/gateway.js';

export function evaluation(decision: EvaluateResponse['decision'], extra: Partial<EvaluateResponse> = {}): EvaluateResponse {
  return { decision, reasons: [], warnings: [], mode: 'approve', approval: null, revision: 'test', ...extra };
}

/** Replaces every occurrence of `secret` in the result's text with [REDACTED]. */
export function redactingText(secret: string): (req: RedactRequest) => RedactResponse {
  return (req) => {
    const text = typeof req.result === 'string' ? req.result : JSON.stringify(req.result);
    const hit = text.includes(secret);
    const out = text.split(secret).join('[REDACTED]');
    return {
      decision: 'allow',
      reasons: hit ? [{ rule: 'toolresult.secret_data', message: 'redacted' }] : [],
      warnings: [],
      approval: null,
      result: typeof req.result === 'string' ? out : JSON.parse(out),
      redactions: hit ? [{ pointer: '/data/password', reason: 'Secret value' }] : [],
    };
  };
}

export class FakeGate implements GateApi {
  readonly evaluations: EvaluateRequest[] = [];
  readonly redactions: RedactRequest[] = [];
  readonly approvalReads: string[] = [];
  decide: (req: EvaluateRequest) => EvaluateResponse = () => evaluation('allow');
  redactWith: (req: RedactRequest) => RedactResponse = redactingText('never-present');
  /** Answers the approval long-poll; default: still Pending. */
  approvalWith: (id: string) => ApprovalView = (id) => ({ id, phase: 'Pending', decidedBy: null, message: null, arguments: null, edited: false });
  /** Every call fails with this, when set. */
  failWith: GatewayError | null = null;
  /** Every call takes this long. */
  delayMs = 0;

  async evaluate(body: EvaluateRequest, signal?: AbortSignal): Promise<EvaluateResponse> {
    await this.#pause(signal);
    this.evaluations.push(structuredClone(body));
    return structuredClone(this.decide(body));
  }

  async redact(body: RedactRequest, signal?: AbortSignal): Promise<RedactResponse> {
    await this.#pause(signal);
    this.redactions.push(structuredClone(body));
    return this.redactWith(body);
  }

  async approval(id: string, _o: { waitMs: number; phase?: string }, signal?: AbortSignal): Promise<ApprovalView> {
    await this.#pause(signal, 20);
    this.approvalReads.push(id);
    return this.approvalWith(id);
  }

  async checkToken(): Promise<void> {
    await this.#pause();
  }

  /** The tool calls that were asked about for real (not the dry runs of tools/list). */
  get calls(): { name: string; arguments: JsonObject; target: JsonObject }[] {
    return this.evaluations.filter((e) => !e.dryRun).map((e) => e.tool as never);
  }

  async #pause(signal?: AbortSignal, min = 0): Promise<void> {
    if (this.failWith) throw this.failWith;
    const ms = Math.max(min, this.delayMs);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    if (signal?.aborted) throw new Error('aborted');
  }
}
