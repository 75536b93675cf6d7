// Names an approval after what was asked, so a retried or concurrently
// duplicated request finds the same ApprovalRequest: who, which operation on
// which resource, and a canonical hash of the object without the metadata the
// API server or kubectl change between two tries.

import { createHash } from 'node:crypto';
import type { JsonObject, PolicyInput } from '../contract/index.js';
import { canonicalJson } from '../util/canonical.js';

/** metadata fields that differ between two submissions of the same object. */
const VOLATILE_METADATA = [
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
/** kubectl apply stores the whole previous object here (Secret data included). */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface RequestKeys {
  /** Who asked to do what to which object, without the object's content. */
  target: string;
  /** The target plus the object's digest: one per distinct request. */
  fingerprint: string;
  /** sha256:<hex> of the object without volatile metadata, or of the tool call; with the content of a tool result or prompt. */
  objectDigest: string;
}

/** A copy of `object` without volatile metadata and status; other fields untouched. */
export function stripVolatile(object: JsonObject): JsonObject {
  const copy: JsonObject = { ...object };
  delete copy.status;
  const metadata = object.metadata;
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    const m: JsonObject = { ...(metadata as JsonObject) };
    for (const key of VOLATILE_METADATA) delete m[key];
    const annotations = m.annotations;
    if (typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations)) {
      const a = { ...(annotations as JsonObject) };
      delete a[LAST_APPLIED];
      if (Object.keys(a).length > 0) m.annotations = a;
      else delete m.annotations;
    }
    copy.metadata = m;
  }
  return copy;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The digest of an object as it would be admitted; null (DELETE, reads) has a digest too. */
export function objectDigest(object: JsonObject | null | undefined): string {
  return `sha256:${sha256Hex(canonicalJson(object ? stripVolatile(object) : null))}`;
}

/**
 * The digest of a tool call as an approval knows it: the tool, its arguments
 * and the target it declares (the cluster included, so an approval for a
 * call on a dev cluster never covers the same call on production).
 */
export function toolDigest(tool: { name?: unknown; arguments?: unknown; target?: unknown }): string {
  return `sha256:${sha256Hex(canonicalJson({ name: tool.name ?? null, arguments: tool.arguments ?? null, target: tool.target ?? null }))}`;
}

/**
 * What an approval is keyed on. DELETE is keyed on the target alone: the
 * stored object changes under it (status, controllers) without the request
 * changing. Tool calls hash the tool, its arguments and its target. The
 * content a tool result or prompt carries (as policy saw it: a prompt's text
 * already redacted, with the findings) is hashed too, so a different result
 * or prompt is a different request.
 */
export function requestKeys(input: PolicyInput): RequestKeys {
  const tool = input.tool as { name?: unknown; arguments?: unknown; target?: unknown } | null;
  const target = {
    face: input.face,
    actor: input.actor.username,
    operation: input.action.operation,
    group: input.resource.group,
    resource: input.resource.resource,
    kind: input.resource.kind,
    namespace: input.resource.namespace,
    name: input.resource.name,
    subresource: input.action.subresource,
    tool: typeof tool?.name === 'string' ? tool.name : '',
  };
  const subject = tool ? toolDigest(tool) : objectDigest(input.action.operation === 'DELETE' ? null : input.object);
  const digest = input.content === null || input.content === undefined ? subject : contentDigest(subject, input.content);
  const targetHash = sha256Hex(canonicalJson(target));
  return {
    // 40 hex characters: fits a label value (63) with room to spare, 160 bits.
    target: targetHash.slice(0, 40),
    fingerprint: sha256Hex(canonicalJson({ ...target, objectDigest: digest })).slice(0, 40),
    objectDigest: digest,
  };
}

/** The digest of the object or tool call together with the content a tool result or prompt carries. */
function contentDigest(subject: string, content: JsonObject): string {
  return `sha256:${sha256Hex(canonicalJson({ subject, content }))}`;
}

/** Who asked, as a label value: 40 hex characters of the username's digest. */
export function requesterKey(username: string): string {
  return sha256Hex(canonicalJson({ requester: username })).slice(0, 40);
}

/** belay-<20 hex> for the first request with a fingerprint, belay-<20 hex>-<n> for later ones. */
export function approvalName(fingerprint: string, attempt: number): string {
  const base = `belay-${fingerprint.slice(0, 20)}`;
  return attempt <= 1 ? base : `${base}-${attempt}`;
}
