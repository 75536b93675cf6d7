// The agent context (workflow, confidence, rationale…) comes from the
// object's annotations, the user's extra set through impersonation, or the
// agent API. Annotations win over user extra: they travel with the object
// and show up in review. The prompt behind a tool call comes from the agent
// API only, and is redacted here, so nothing downstream ever holds what the
// scanner flagged.

import type { AgentContext, JsonObject } from '../contract/index.js';
import { REDACTED, redactText } from '../scan/index.js';

export const CONTEXT_KEYS = {
  workflow: 'belay.dev/workflow',
  run: 'belay.dev/workflow-run',
  confidence: 'belay.dev/confidence',
  rationale: 'belay.dev/rationale',
  remediationTarget: 'belay.dev/remediation-target',
  cluster: 'belay.dev/cluster',
} as const;

type ContextField = keyof typeof CONTEXT_KEYS;

/** Longest value kept from a caller-controlled field; longer ones are cut. */
const MAX_FIELD = 1024;
/** Longest prompt context kept (before redaction); the rest is cut. */
export const MAX_PROMPT = 8 * 1024;

export function contextFrom(object: JsonObject | null, extra: Record<string, string[]> | undefined): AgentContext {
  const annotations = annotationsOf(object);
  const fromAnnotations = pick((key) => annotations[key]);
  if (Object.keys(fromAnnotations).length > 0) return { ...fromAnnotations, source: 'annotation' };
  const fromExtra = pick((key) => extra?.[key]?.[0]);
  if (Object.keys(fromExtra).length > 0) return { ...fromExtra, source: 'userinfo' };
  return {};
}

/** Validates a context given by an API caller. */
export function contextFromApi(raw: unknown): AgentContext {
  if (typeof raw !== 'object' || raw === null) return {};
  const o = raw as Record<string, unknown>;
  const ctx = pick((_key, field) => {
    const v = o[field];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  });
  if (typeof o.prompt === 'string' && o.prompt !== '') ctx.prompt = redactedPrompt(o.prompt);
  return Object.keys(ctx).length > 0 ? { ...ctx, source: 'api' } : {};
}

/** The prompt as the scanner redacts it; one that cannot be scanned is not kept at all. */
function redactedPrompt(text: string): string {
  const cut = text.length > MAX_PROMPT ? `${text.slice(0, MAX_PROMPT)}…` : text;
  const r = redactText(cut);
  return r.status === 'ok' ? r.redacted : REDACTED;
}

function pick(get: (key: string, field: ContextField) => string | undefined): AgentContext {
  const ctx: AgentContext = {};
  for (const field of Object.keys(CONTEXT_KEYS) as ContextField[]) {
    const value = get(CONTEXT_KEYS[field], field);
    if (typeof value !== 'string' || value === '') continue;
    if (field === 'confidence') {
      const n = Number(value);
      if (Number.isFinite(n)) ctx.confidence = n;
    } else {
      ctx[field] = value.slice(0, MAX_FIELD);
    }
  }
  return ctx;
}

function annotationsOf(object: JsonObject | null): Record<string, string> {
  const metadata = object?.metadata as JsonObject | undefined;
  const annotations = metadata?.annotations;
  return typeof annotations === 'object' && annotations !== null ? (annotations as Record<string, string>) : {};
}
