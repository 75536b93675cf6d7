// Reads an approver's decision from the console into a HumanDecision, the
// same value `belay approvals approve|reject|edit` builds. Malformed input
// and an edit that cannot apply are bad requests (400) and decide nothing;
// who may decide is left to the store (or, in a cluster, the API server).

import { parse as parseYaml } from 'yaml';
import type { ApprovalOverride, ApprovalRequest } from '../approvals/resource.js';
import { checkOverride } from '../approvals/separation.js';
import type { HumanDecision } from '../approvals/store.js';
import type { JsonObject, PatchOperation } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { diff } from '../patch/apply.js';
import { checkTextNesting } from '../util/json-shape.js';

export const CONSOLE_ACTIONS = ['approve', 'reject', 'edit'] as const;
export type ConsoleAction = (typeof CONSOLE_ACTIONS)[number];

/** status.message's limit in the CRD. */
export const MAX_MESSAGE_LENGTH = 4096;

export interface DecisionRequest {
  action: ConsoleAction;
  decision: HumanDecision;
  /** The version the approver looked at; a request that changed since is a conflict. */
  resourceVersion?: string;
}

/**
 * The body of `POST /console/api/approvals/{ns}/{name}/decision`:
 *
 *   {"action": "approve", "message"?, "applyFixes"?: true}
 *   {"action": "reject", "message": "why"}
 *   {"action": "edit", "message"?, and one of
 *      "patch": [RFC 6902 ops] (or their JSON text),
 *      "object": the edited object (or its YAML/JSON text; the patch is the difference),
 *      "arguments": a tool call's replacement arguments (object, or YAML/JSON text)}
 *
 * plus "resourceVersion"?: what the approver saw.
 */
export function parseDecisionRequest(body: unknown, request: ApprovalRequest): DecisionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const known = new Set(['action', 'message', 'applyFixes', 'patch', 'object', 'arguments', 'resourceVersion']);
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (unknown.length > 0) throw bad(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (typeof b.action !== 'string' || !(CONSOLE_ACTIONS as readonly string[]).includes(b.action)) {
    throw bad(`"action" must be one of ${CONSOLE_ACTIONS.join(', ')}`);
  }
  const action = b.action as ConsoleAction;
  const message = messageOf(b.message, action === 'reject');
  if (b.resourceVersion !== undefined && (typeof b.resourceVersion !== 'string' || b.resourceVersion === '' || b.resourceVersion.length > 64)) {
    throw bad('"resourceVersion" must be the version string the console showed');
  }
  const edits = (['patch', 'object', 'arguments'] as const).filter((k) => b[k] !== undefined);
  if (action !== 'edit' && edits.length > 0) throw bad(`${edits.map((k) => `"${k}"`).join(', ')} only go with "action": "edit"`);
  if (action !== 'approve' && b.applyFixes !== undefined) throw bad('"applyFixes" only goes with "action": "approve"');
  if (b.applyFixes !== undefined && typeof b.applyFixes !== 'boolean') throw bad('"applyFixes" must be true or false');

  let override: ApprovalOverride | undefined;
  if (action === 'approve' && b.applyFixes === true) {
    if ((request.spec.fixes ?? []).length === 0) throw bad('this request has no proposed fix to apply; approve it as it is, or edit it');
    override = { patch: request.spec.fixes };
  }
  if (action === 'edit') {
    if (edits.length !== 1)
      throw bad('an edit needs exactly one of "patch" (a JSON patch), "object" (the edited object) or "arguments" (a tool call\'s replacement arguments)');
    override = editOf(edits[0]!, b[edits[0]!], request);
    const check = checkOverride(request.spec, override);
    if (!check.ok) throw bad(check.message);
  }
  const decision: HumanDecision = {
    phase: action === 'reject' ? 'Rejected' : 'Approved',
    ...(message ? { message } : {}),
    ...(override ? { override } : {}),
  };
  return { action, decision, ...(typeof b.resourceVersion === 'string' ? { resourceVersion: b.resourceVersion } : {}) };
}

function messageOf(raw: unknown, required: boolean): string | undefined {
  if (raw === undefined || raw === null || raw === '') {
    if (required) throw bad('a rejection needs a "message": the agent, and the human behind it, read why');
    return undefined;
  }
  if (typeof raw !== 'string') throw bad('"message" must be a string');
  const text = raw.trim();
  if (required && text === '') throw bad('a rejection needs a "message": the agent, and the human behind it, read why');
  if (text.length > MAX_MESSAGE_LENGTH) throw bad(`"message" is longer than ${MAX_MESSAGE_LENGTH} characters`);
  return text || undefined;
}

function editOf(kind: 'patch' | 'object' | 'arguments', raw: unknown, request: ApprovalRequest): ApprovalOverride {
  if (kind === 'patch') {
    const patch = typeof raw === 'string' ? parseText(raw, '"patch"', 'json') : raw;
    if (!Array.isArray(patch)) throw bad('"patch" must be a JSON array of RFC 6902 operations');
    return { patch: patch as PatchOperation[] };
  }
  const value = typeof raw === 'string' ? parseText(raw, `"${kind}"`, 'yaml') : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`"${kind}" must be an object (or its YAML/JSON text)`);
  if (kind === 'arguments') {
    if (!request.spec.tool) throw bad('"arguments" replaces a tool call\'s arguments, and this request is not a tool call; edit the object instead');
    return { arguments: value as JsonObject };
  }
  const original = request.spec.object;
  if (!original && request.spec.tool) throw bad('this request is a tool call: edit its "arguments"');
  if (!original) {
    throw bad(
      request.spec.objectExcerpt
        ? 'the object was too large to keep, so it cannot be edited as a whole; send a "patch"'
        : 'this request has no object to edit (a delete, a connect or a read); approve or reject it as it is',
    );
  }
  const patch = diff(original, value as JsonObject);
  if (patch.length === 0) throw bad('the edited object is the same as the requested one; approve it as it is instead');
  return { patch };
}

function parseText(text: string, what: string, as: 'json' | 'yaml'): unknown {
  try {
    checkTextNesting(text);
  } catch (err) {
    throw bad(`${what} ${(err as Error).message}`);
  }
  try {
    // YAML is a superset of JSON, so YAML text may also be plain JSON.
    return as === 'json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw bad(`${what} is not valid ${as === 'json' ? 'JSON' : 'YAML or JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function bad(message: string): BelayError {
  return new BelayError('bad_request', message);
}
