// Builds the ApprovalRequest for a deferred request: what a human needs to
// decide, bounded to what the CRD accepts (a spec the API server refuses
// would turn every defer into an error), with secrets kept out of it: the
// object and a tool call's arguments are stored redacted (Secret values,
// policy's paths, and everything the secret scanner finds), the arguments
// with a digest of them as sent; what cannot be scanned is not stored.

import { type AgentContext, DEFAULT_APPROVAL_TTL, type JsonObject, type PolicyInput } from '../contract/index.js';
import { fromValue, redactContent, redactResult, storedToolCall } from '../redact/index.js';
import { redactText } from '../scan/index.js';
import { parseDuration } from '../util/duration.js';
import { approvalName, type RequestKeys, requesterKey, stripVolatile } from './fingerprint.js';
import type { DeferredRequest } from './gate.js';
import { APPROVAL_API_VERSION, APPROVAL_KIND, type ApprovalRequest, DEFAULT_APPROVER_GROUPS, LABELS, type RequestedAction, rfc3339 } from './resource.js';

export interface RecordOptions {
  namespace: string;
  attempt: number;
  now: Date;
  /** Groups that decide when the policy names none. */
  approverGroups?: readonly string[];
  /** Overrides the policy's approval.ttl (tests, drills). */
  ttlMs?: number;
  /** Objects larger than this (as JSON) are kept as an excerpt. */
  maxObjectBytes?: number;
}

/** Well under etcd's 1.5 MiB per object, leaving room for the rest of the spec. */
export const DEFAULT_MAX_OBJECT_BYTES = 256 * 1024;
const EXCERPT_BYTES = 8 * 1024;
/** The CRD's bound for spec.context.prompt. */
const MAX_PROMPT_CHARS = 9 * 1024;
/** Impersonation extra an agent (or its MCP host) sets to name the human it acts for. */
export const ON_BEHALF_OF = 'belay.dev/on-behalf-of';

export function newApprovalRequest(req: DeferredRequest, keys: RequestKeys, options: RecordOptions): ApprovalRequest {
  const { input, decision } = req;
  const ttlMs = options.ttlMs ?? ttlOf(decision.approval?.ttl);
  const groups = (decision.approval?.groups ?? []).filter((g) => g !== '').slice(0, 64);
  const onBehalfOf = input.actor.extra[ON_BEHALF_OF]?.[0];
  const maxBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const { object, excerpt } = storedObject(input.action.operation === 'DELETE' ? input.oldObject : input.object, decision.redact, maxBytes);
  // An UPDATE keeps the live object too, redacted the same way, so approvers see what changes.
  const old = input.action.operation === 'UPDATE' && input.oldObject ? storedObject(input.oldObject, decision.redact, maxBytes) : undefined;
  return {
    apiVersion: APPROVAL_API_VERSION,
    kind: APPROVAL_KIND,
    metadata: {
      name: approvalName(keys.fingerprint, options.attempt),
      namespace: options.namespace,
      labels: {
        [LABELS.target]: keys.target,
        [LABELS.fingerprint]: keys.fingerprint,
        [LABELS.attempt]: String(options.attempt),
        [LABELS.requester]: requesterKey(input.actor.username),
        [LABELS.managedBy]: 'belay',
      },
    },
    spec: {
      face: input.face,
      requester: {
        user: cut(input.actor.username, 512),
        ...(input.actor.uid ? { uid: cut(input.actor.uid, 256) } : {}),
        groups: input.actor.groups.slice(0, 256).map((g) => cut(g, 512)),
        ...(onBehalfOf ? { onBehalfOf: cut(onBehalfOf, 512) } : {}),
      },
      request: action(input),
      fingerprint: keys.fingerprint,
      objectDigest: keys.objectDigest,
      object,
      ...(excerpt !== undefined ? { objectExcerpt: excerpt } : {}),
      ...(old ? { oldObject: old.object, ...(old.excerpt !== undefined ? { oldObjectExcerpt: old.excerpt } : {}) } : {}),
      ...(input.tool ? { tool: storedToolCall(input.tool) } : {}),
      reasons: decision.reasons.slice(0, 64).map((r) => ({ rule: cut(r.rule, 256), message: cut(r.message, 4096), severity: r.severity })),
      fixes: decision.fixes.slice(0, 256),
      bundleRevision: cut(req.revision, 256),
      ...(req.bundleDigest ? { bundleDigest: cut(req.bundleDigest, 128) } : {}),
      approverGroups: groups.length > 0 ? groups : [...(options.approverGroups ?? DEFAULT_APPROVER_GROUPS)],
      risk: cut(decision.approval?.risk ?? 'medium', 64),
      context: context(input.context),
      requiredBy: rfc3339(new Date(options.now.getTime() + ttlMs)),
    },
  };
}

/** The policy's ttl; one it wrote wrong gets the default rather than blocking every approval. */
function ttlOf(ttl: string | undefined): number {
  try {
    return parseDuration(ttl || DEFAULT_APPROVAL_TTL);
  } catch {
    return parseDuration(DEFAULT_APPROVAL_TTL);
  }
}

function action(input: PolicyInput): RequestedAction {
  const tool = input.tool as { name?: unknown } | null;
  return {
    operation: cut(input.action.operation, 32),
    verb: cut(input.action.verb, 64),
    group: cut(input.resource.group, 253),
    version: cut(input.resource.version, 64),
    kind: cut(input.resource.kind, 128),
    resource: cut(input.resource.resource, 253),
    subresource: cut(input.action.subresource, 128),
    namespace: cut(input.resource.namespace, 253),
    name: cut(input.resource.name, 253),
    ...(typeof tool?.name === 'string' ? { tool: cut(tool.name, 253) } : {}),
  };
}

/**
 * The object a human reviews: volatile metadata removed, Secret values, the
 * paths policy asks to hide and every secret the scanner finds replaced, and
 * replaced by an excerpt when it is too large to store.
 */
export function storedObject(
  source: JsonObject | null | undefined,
  redact: readonly string[],
  maxBytes: number = DEFAULT_MAX_OBJECT_BYTES,
): { object: JsonObject | null; excerpt?: string } {
  if (!source) return { object: null };
  let safe: JsonObject;
  try {
    safe = redactResult(fromValue(stripVolatile(source)), { policyPaths: redact }).result as JsonObject;
  } catch {
    // A malformed redact path must not put the unredacted object on record.
    return { object: null, excerpt: 'the object could not be redacted and is not stored' };
  }
  const scanned = redactContent(safe);
  if (scanned.status !== 'ok') return { object: null, excerpt: `the object could not be scanned for secrets (${scanned.message}) and is not stored` };
  safe = scanned.value as JsonObject;
  const text = JSON.stringify(safe);
  if (Buffer.byteLength(text) <= maxBytes) return { object: safe };
  return { object: null, excerpt: `${Buffer.from(text).subarray(0, EXCERPT_BYTES).toString('utf8')}…` };
}

/** The CRD's bounds for agent context; values outside them are dropped, not refused. */
export function context(ctx: AgentContext): AgentContext {
  const out: AgentContext = {};
  if (ctx.workflow) out.workflow = cut(ctx.workflow, 253);
  if (ctx.run) out.run = cut(ctx.run, 253);
  if (typeof ctx.confidence === 'number' && ctx.confidence >= 0 && ctx.confidence <= 1) out.confidence = ctx.confidence;
  if (ctx.rationale) out.rationale = cut(redactedText(ctx.rationale), 4096);
  if (ctx.remediationTarget) out.remediationTarget = cut(ctx.remediationTarget, 512);
  if (ctx.cluster) out.cluster = cut(ctx.cluster, 253);
  if (ctx.prompt) out.prompt = cut(redactedText(ctx.prompt), MAX_PROMPT_CHARS);
  if (ctx.source) out.source = ctx.source;
  return out;
}

/** Free text an agent wrote may quote a secret: stored redacted, or not at all when it cannot be scanned. */
function redactedText(text: string): string {
  const r = redactText(text);
  return r.status === 'ok' ? r.redacted : '[REDACTED]';
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
