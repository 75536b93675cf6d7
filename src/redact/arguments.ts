// A tool call's arguments at rest (an ApprovalRequest's spec.tool, the
// decision log, the console, GET /v1/approvals): a digest of the arguments
// as the agent sent them, their redacted form within a size cap, and what was
// redacted and why. And the way back: an approver edits the redacted view,
// and restoreRedacted() puts the agent's own values back where the edit left
// a redacted value as it was shown.

import type { JsonObject } from '../contract/index.js';
import { REDACTED } from '../scan/index.js';
import { canonicalDigest } from '../util/canonical.js';
import { redactContent } from './content.js';
import { formatPointer } from './pointer.js';
import { recordValue } from './record.js';

/** Largest redacted arguments kept whole, in UTF-8 bytes of their JSON. */
export const DEFAULT_ARGUMENT_BYTES = 64 * 1024;
/** What is kept of arguments over the cap: the start of their redacted JSON. */
const EXCERPT_BYTES = 8 * 1024;

export interface StoredToolCall extends JsonObject {
  /** The arguments with every secret replaced by [REDACTED]; null when they could not be scanned or are over the cap. */
  arguments: JsonObject | null;
  /** sha256 of the arguments as the agent sent them (canonical JSON). */
  argumentsDigest: string;
}

/**
 * `tool` ({name, arguments, target}) as it may be stored and shown: every
 * other member but the scan's findings kept, the arguments replaced by their redacted form, with
 * `argumentsDigest`, and when anything was hidden `redactions` (pointer,
 * kind, rule, description — never a value); `argumentsStatus` when they could
 * not be scanned (only the digest is kept), `argumentsExcerpt` when they are
 * over the cap. Idempotent: a stored call stays as it is.
 */
export function storedToolCall(tool: JsonObject, { maxBytes = DEFAULT_ARGUMENT_BYTES }: { maxBytes?: number } = {}): StoredToolCall {
  if (typeof tool.argumentsDigest === 'string' && (tool.arguments === null || isObject(tool.arguments))) return tool as StoredToolCall;
  // The scan's own findings (policy input) are left out: `redactions` says the same, capped.
  const { arguments: args, redactions: _r, argumentsStatus: _s, argumentsExcerpt: _e, findings: _f, scanStatus: _ss, scanMessage: _sm, ...rest } = tool;
  const r = recordValue(args ?? {}, { maxBytes });
  const stored: StoredToolCall = { ...rest, arguments: null, argumentsDigest: r.digest };
  if (r.redactions.length > 0) stored.redactions = r.redactions.map((x) => ({ ...x }));
  if (r.status !== 'ok') stored.argumentsStatus = r.status;
  else if (r.truncated) stored.argumentsExcerpt = cutBytes(String(r.redacted), EXCERPT_BYTES);
  else stored.arguments = isObject(r.redacted) ? r.redacted : { value: r.redacted as never };
  return stored;
}

/** An object (arguments as an approver saw them, a stored object) with every secret replaced; null when it cannot be scanned. */
export function redactedObject(args: JsonObject): JsonObject | null {
  const r = redactContent(args);
  return r.status === 'ok' && isObject(r.value) ? r.value : null;
}

export type Restored = { ok: true; arguments: JsonObject } | { ok: false; message: string };

/**
 * An approver's edit of the arguments, made on the redacted view: each
 * string that still reads as the view showed it at the same place (holding
 * [REDACTED]) gets the agent's own value back. A redacted value the edit
 * moved or changed cannot be traced to a value and refuses the edit, so a
 * tool never runs with "[REDACTED]" as a password.
 */
export function restoreRedacted(edited: JsonObject, original: JsonObject): Restored {
  let view: JsonObject | null | undefined;
  const problems: string[] = [];
  const walk = (node: unknown, path: (string | number)[], depth: number): unknown => {
    if (depth > 512) return node;
    if (typeof node === 'string') {
      if (!node.includes(REDACTED)) return node;
      const own = at(original, path);
      if (own === node) return node;
      view ??= redactedObject(original);
      if (view !== null && at(view, path) === node && own !== undefined) return own;
      problems.push(formatPointer(path) || '/');
      return node;
    }
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i], depth + 1));
    if (isObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k], depth + 1)]));
    return node;
  };
  const restored = walk(edited, [], 0) as JsonObject;
  if (problems.length > 0) {
    return {
      ok: false,
      message: `the approver's edit keeps a redacted value at ${problems.slice(0, 5).join(', ')} that belay cannot trace to the agent's arguments (it was moved or changed); type the value there, or leave it where it was shown`,
    };
  }
  return { ok: true, arguments: restored };
}

/** Whether `args` are the arguments a stored call was recorded from. */
export function sameArguments(stored: { arguments?: unknown; argumentsDigest?: unknown }, args: JsonObject): boolean {
  if (typeof stored.argumentsDigest === 'string') return stored.argumentsDigest === canonicalDigest(args);
  // A record written before arguments were stored redacted holds them as sent.
  return canonicalDigest(stored.arguments ?? {}) === canonicalDigest(args);
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const seg of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, seg)) return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cutBytes(text: string, max: number): string {
  let cut = Buffer.from(text).subarray(0, max).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut.length < text.length ? `${cut}…` : cut;
}
