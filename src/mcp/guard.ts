// One MCP session's judge: every tools/call is checked against the tool's
// input schema, mapped to its Kubernetes target and asked of belay's gateway
// before it may reach the MCP server; a deferred call waits for an approver
// when --wait says so; every result goes through the gateway's redaction
// before the agent sees it; tools that policy denies by name are left out of
// tools/list. Anything that cannot be judged is not run (fail closed).

import type { JsonObject } from '../contract/index.js';
import type { Logger } from '../observe/log.js';
import { invocationId } from './callid.js';
import { ToolCatalog, type ToolDefinition } from './catalog.js';
import { type EvaluateRequest, type EvaluateResponse, type GateApi, GatewayError, type ToolTarget } from './gateway.js';
import {
  cannotJudge,
  deferred,
  denied,
  expired,
  failClosed,
  fixProposed,
  invalidArguments,
  rejected,
  resultDeferred,
  resultTooLarge,
  resultUncheckable,
  resultWithheld,
  type ToolResult,
} from './results.js';
import { type KubeDefaults, mapToolCall } from './tools/index.js';
import { type Progress, waitForApproval } from './wait.js';

/** Largest tool result passed on; the gateway's default body limit is 8 MiB. */
export const DEFAULT_MAX_RESULT_BYTES = 4 * 1024 * 1024;

export interface GuardOptions {
  gate: GateApi;
  kube: KubeDefaults;
  log: Logger;
  /** How long a deferred call waits for an approver (0: answer at once). */
  waitMs?: number;
  /** Which hand-written mapping to use, whatever the server calls itself. */
  toolMap?: string;
  /** Agent context sent with every call (workflow, confidence, rationale, …). */
  context?: JsonObject;
  onBehalfOf?: string;
  maxResultBytes?: number;
}

export interface CallRequest {
  name: string;
  arguments: JsonObject;
  signal: AbortSignal;
  /** Reports progress to the client, when it asked for progress. */
  progress?: Progress;
}

/** What the forwarded call was, for screening its result. */
export interface Ticket {
  name: string;
  arguments: JsonObject;
  target: ToolTarget;
  requestId: string;
  /** The approval that let it through, when one did. */
  approvalId?: string;
}

export type Judgement = { kind: 'forward'; ticket: Ticket } | { kind: 'answer'; result: ToolResult };

/** The argument a mapping reads a manifest from, per tool, to name it in a proposed fix. */
const MANIFEST_ARGUMENT: Record<string, string> = { resources_create_or_update: 'resource', kubectl_apply: 'manifest', kubectl_create: 'manifest' };

const TEXT_MIME = /^(text\/|application\/(json|yaml|x-yaml|xml)|application\/[\w.+-]+\+(json|yaml|xml))/;

export class ToolGuard {
  readonly catalog = new ToolCatalog();
  /** serverInfo.name from the upstream's initialize answer. */
  server: string | undefined;
  readonly #o: GuardOptions;
  readonly #maxResult: number;

  constructor(options: GuardOptions) {
    this.#o = options;
    this.#maxResult = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  async judge(call: CallRequest): Promise<Judgement> {
    const { name } = call;
    const args = call.arguments;
    const schema = this.catalog.check(name, args);
    if (schema.ok === false) return this.#answer(name, invalidArguments(name, schema.errors));
    const mapping = mapToolCall({ server: this.#o.toolMap ?? this.server, name, arguments: args, meta: this.catalog.get(name)?._meta, kube: this.#o.kube });
    if (mapping.kind === 'refused') return this.#answer(name, cannotJudge(name, mapping.message));
    const target = mapping.kind === 'mapped' ? mapping.target : {};
    const request: EvaluateRequest = {
      tool: { name, arguments: args, target, ...(mapping.kind === 'mapped' && mapping.object ? { object: mapping.object } : {}) },
      requestId: invocationId(name, args),
      ...(this.#o.context ? { context: this.#o.context } : {}),
      ...(this.#o.onBehalfOf ? { onBehalfOf: this.#o.onBehalfOf } : {}),
    };
    try {
      const first = await this.#o.gate.evaluate(request, call.signal);
      return await this.#decide(call, request, first, this.#o.waitMs ?? 0);
    } catch (err) {
      if (call.signal.aborted) throw err;
      return this.#answer(name, failClosed(name, err instanceof Error ? err : new Error(String(err))));
    }
  }

  async #decide(call: CallRequest, request: EvaluateRequest, r: EvaluateResponse, waitMs: number): Promise<Judgement> {
    const name = request.tool.name;
    this.#o.log.info(
      { tool: name, decision: r.decision, rules: r.reasons.map((x) => x.rule), approval: r.approval?.id ?? undefined, requestId: request.requestId },
      `tools/call ${name}: ${r.decision}`,
    );
    if (r.fix && r.decision !== 'allow') return this.#answer(name, fixProposed(name, r, r.fix, MANIFEST_ARGUMENT[name]));
    if (r.decision === 'deny') return this.#answer(name, denied(name, r));
    if (r.decision === 'defer') {
      const id = r.approval?.id;
      if (!id || waitMs <= 0) return this.#answer(name, deferred(name, r));
      const view = await waitForApproval(this.#o.gate, id, waitMs, call.signal, call.progress);
      if (view.phase === 'Rejected') return this.#answer(name, rejected(name, view));
      if (view.phase === 'Expired') return this.#answer(name, expired(name, view));
      if (view.phase === 'Pending') return this.#answer(name, deferred(name, r, waitMs));
      // Approved (or already used by an identical call): ask again under the same id, without waiting twice.
      return this.#decide(call, request, await this.#o.gate.evaluate(request, call.signal), 0);
    }
    // Allowed: what runs is the gateway's version of the call (an approver's edit, checked by policy again).
    const edited = r.edited === true && r.tool?.arguments && typeof r.tool.arguments === 'object';
    const args = edited ? (r.tool!.arguments as JsonObject) : request.tool.arguments;
    if (edited) {
      const schema = this.catalog.check(name, args);
      if (schema.ok === false) return this.#answer(name, invalidArguments(name, schema.errors, true));
    }
    return {
      kind: 'forward',
      ticket: {
        name,
        arguments: args,
        target: (edited && r.tool?.target) || request.tool.target,
        requestId: request.requestId,
        ...(r.approval?.phase === 'Approved' && r.approval.id ? { approvalId: r.approval.id } : {}),
      },
    };
  }

  #answer(name: string, result: ToolResult): Judgement {
    if (result._meta) this.#o.log.debug({ tool: name, verdict: result._meta }, 'tools/call answered by belay');
    return { kind: 'answer', result };
  }

  /**
   * The upstream's result as the agent may see it: each text (text content,
   * embedded text resources, text blobs) and the structured content through
   * the gateway's redaction. Images and audio pass as they are.
   */
  async screen(ticket: Ticket, result: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    const bytes = Buffer.byteLength(JSON.stringify(result), 'utf8');
    if (bytes > this.#maxResult) return resultTooLarge(ticket.name, bytes, this.#maxResult);
    const out: JsonObject = { ...result };
    let n = 0;
    const redact = async (value: unknown, format?: 'json'): Promise<unknown> => {
      const r = await this.#o.gate.redact(
        {
          tool: { name: ticket.name, arguments: ticket.arguments, target: ticket.target },
          result: value,
          ...(format ? { format } : {}),
          requestId: `${ticket.requestId}-r${n++}`,
          ...(ticket.approvalId ? { approvalId: ticket.approvalId } : {}),
          ...(this.#o.context ? { context: this.#o.context } : {}),
        },
        signal,
      );
      if (r.decision === 'deny') throw new Withheld(resultWithheld(ticket.name, r));
      if (r.decision === 'defer') throw new Withheld(resultDeferred(ticket.name, r));
      if (r.redactions.length > 0) this.#o.log.info({ tool: ticket.name, redactions: r.redactions.length }, `tools/call ${ticket.name}: result redacted`);
      return r.result;
    };
    try {
      if (Array.isArray(result.content)) {
        const content: unknown[] = [];
        for (const block of result.content as JsonObject[]) content.push(await this.#screenBlock(block, redact));
        out.content = content;
      }
      if (result.structuredContent !== undefined && result.structuredContent !== null) {
        out.structuredContent = await redact(result.structuredContent, 'json');
      }
      return out;
    } catch (err) {
      if (err instanceof Withheld) return err.result;
      if (signal.aborted) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      if (!(e instanceof GatewayError)) this.#o.log.error({ err: e, tool: ticket.name }, 'screening a tool result failed');
      return resultUncheckable(ticket.name, e);
    }
  }

  async #screenBlock(block: JsonObject, redact: (value: unknown) => Promise<unknown>): Promise<unknown> {
    if (block?.type === 'text' && typeof block.text === 'string') return { ...block, text: asText(await redact(block.text)) };
    const resource = block?.type === 'resource' ? (block.resource as JsonObject | undefined) : undefined;
    if (resource && typeof resource.text === 'string') return { ...block, resource: { ...resource, text: asText(await redact(resource.text)) } };
    if (resource && typeof resource.blob === 'string' && typeof resource.mimeType === 'string' && TEXT_MIME.test(resource.mimeType)) {
      const text = asText(await redact(Buffer.from(resource.blob, 'base64').toString('utf8')));
      return { ...block, resource: { ...resource, blob: Buffer.from(text, 'utf8').toString('base64') } };
    }
    return block;
  }

  /** The tools policy does not deny by name: each asked as a dry run with no arguments and no target. */
  async visible(tools: readonly ToolDefinition[], signal: AbortSignal): Promise<ToolDefinition[]> {
    const verdicts = await mapLimit(tools, 8, async (tool) => {
      try {
        const r = await this.#o.gate.evaluate(
          { tool: { name: tool.name, arguments: {}, target: {} }, requestId: `mcp-list-${tool.name}`.slice(0, 200), dryRun: true },
          signal,
        );
        return r.decision !== 'deny';
      } catch (err) {
        // Listing grants nothing (every call is judged): a gateway that cannot answer hides nothing.
        if (!signal.aborted) this.#o.log.warn({ tool: tool.name, err: (err as Error).message }, 'tools/list: could not ask the gateway; listing the tool');
        return true;
      }
    });
    const shown = tools.filter((_, i) => verdicts[i]);
    if (shown.length < tools.length) {
      this.#o.log.info({ hidden: tools.filter((_, i) => !verdicts[i]).map((t) => t.name) }, 'tools/list: tools denied by policy are not listed');
    }
    return shown;
  }
}

/** Thrown out of screening when policy withholds a part of the result: the whole result is withheld. */
class Withheld extends Error {
  readonly result: ToolResult;
  constructor(result: ToolResult) {
    super('withheld');
    this.result = result;
  }
}

/** The gateway answers text with text; anything else is written back as JSON. */
function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
