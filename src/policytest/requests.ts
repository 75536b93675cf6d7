// Turns a fixture case into what the gateway would have received: an
// AdmissionRequest as the API server sends it (decided by the webhook's own
// code), or the policy input each other face builds with its own code.

import { createHash } from 'node:crypto';
import { stringify as yamlText } from 'yaml';
import type { JsonObject, NamespaceInfo, PolicyInput, ToolCall, ToolCallRequest, ToolTarget } from '../contract/index.js';
import { type AgentSelector, actorFrom, type UserInfo } from '../identity/agents.js';
import type { AdmissionRequest } from '../input/admission.js';
import { authorizationInput, type SubjectAccessReviewSpec } from '../input/authorization.js';
import { CONTEXT_KEYS, contextFromApi } from '../input/context.js';
import { promptInput } from '../input/prompt.js';
import { toolCallInput } from '../input/toolcall.js';
import { toolResultInput } from '../input/toolresult.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { type FixtureCase, isObject, type Operation } from './cases.js';

/** Irregular plurals of built-in kinds; the rest follow English rules. */
const PLURALS: Record<string, string> = {
  Endpoints: 'endpoints',
  PodSecurityPolicy: 'podsecuritypolicies',
  NetworkPolicy: 'networkpolicies',
  PodExecOptions: 'pods',
  PodAttachOptions: 'pods',
  PodPortForwardOptions: 'pods',
  PodProxyOptions: 'pods',
};

export function pluralOf(kind: string): string {
  if (PLURALS[kind]) return PLURALS[kind]!;
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** A stable uid per case, so recorded runs and approval fingerprints repeat. */
export function caseUid(id: string): string {
  const h = createHash('sha256').update(id).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The case's agent context as impersonation extra (`kubectl --as-user-extra`), the way it reaches admission. */
function withContextExtra(user: UserInfo, context: JsonObject | undefined): UserInfo {
  if (!context) return user;
  const extra: Record<string, string[]> = { ...(user.extra ?? {}) };
  for (const [field, key] of Object.entries(CONTEXT_KEYS)) {
    const v = context[field];
    if (typeof v === 'string' || typeof v === 'number') extra[key] = [String(v)];
  }
  return { ...user, extra };
}

function splitApiVersion(apiVersion: unknown): { group: string; version: string } {
  const s = typeof apiVersion === 'string' ? apiVersion : 'v1';
  const i = s.lastIndexOf('/');
  return i < 0 ? { group: '', version: s } : { group: s.slice(0, i), version: s.slice(i + 1) };
}

function metaOf(object: JsonObject | null | undefined): { name?: string; namespace?: string } {
  const m = object?.metadata;
  if (!isObject(m)) return {};
  return {
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    ...(typeof m.namespace === 'string' ? { namespace: m.namespace } : {}),
  };
}

export function admissionRequestOf(c: FixtureCase): AdmissionRequest {
  if (c.review) return fromReview(c);
  const object = c.object ?? null;
  const oldObject = c.oldObject ?? null;
  const operation: Operation = c.operation ?? (object ? (oldObject ? 'UPDATE' : 'CREATE') : 'DELETE');
  const subject = object ?? oldObject;
  const kindName = typeof subject?.kind === 'string' ? subject.kind : (c.kind ?? '');
  const gv = splitApiVersion(subject?.apiVersion);
  const resource = c.resource?.resource ?? pluralOf(kindName);
  const meta = { ...metaOf(oldObject), ...metaOf(object) };
  const namespace = c.namespace ?? meta.namespace;
  const name = c.resourceName ?? meta.name;
  const req: AdmissionRequest = {
    uid: caseUid(c.id),
    kind: { ...gv, kind: kindName },
    resource: { group: c.resource?.group ?? gv.group, version: c.resource?.version ?? gv.version, resource },
    requestKind: { ...gv, kind: kindName },
    requestResource: { group: c.resource?.group ?? gv.group, version: c.resource?.version ?? gv.version, resource },
    ...(c.subresource ? { subResource: c.subresource, requestSubResource: c.subresource } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    operation,
    userInfo: withContextExtra(c.user, c.context),
    object,
    oldObject,
    dryRun: c.dryRun === true,
    options: null,
  };
  return req;
}

/** A whole AdmissionReview: its request as is; the case may still set actor, namespace and dryRun. */
function fromReview(c: FixtureCase): AdmissionRequest {
  const review = c.review!;
  const request = review.request;
  if (review.kind !== 'AdmissionReview' || !isObject(request)) {
    throw new Error(`"review" must be an AdmissionReview with a "request" (got kind ${JSON.stringify(review.kind ?? null)})`);
  }
  const req = structuredClone(request) as unknown as AdmissionRequest;
  if (typeof req.uid !== 'string' || req.uid === '') req.uid = caseUid(c.id);
  if (c.actorGiven || !isObject(req.userInfo)) req.userInfo = c.user;
  req.userInfo = withContextExtra(req.userInfo, c.context);
  if (c.namespace !== undefined) req.namespace = c.namespace;
  if (c.dryRun !== undefined) req.dryRun = c.dryRun;
  if (c.operation !== undefined) req.operation = c.operation;
  return req;
}

/** Namespace metadata as the gateway would know it: labels when given (cluster mode), else the name only (local mode). */
export function namespacesOf(c: FixtureCase): NamespaceDirectory {
  return {
    lookup(name): NamespaceInfo | null {
      if (!name) return null;
      return c.namespaceLabels ? { name, labels: { ...c.namespaceLabels } } : { name };
    },
    close() {},
  };
}

/**
 * The policy input of the non-admission faces, each built by its face's own
 * code: authorization (src/input/authorization.ts), tool calls
 * (src/input/toolcall.ts), tool results (src/input/toolresult.ts: the result
 * parsed as the gateway parses it) and prompts (src/input/prompt.ts: the text
 * scanned, policy seeing the findings and the redacted text).
 */
export async function faceInputOf(c: FixtureCase, agents: AgentSelector): Promise<PolicyInput> {
  const namespaces = namespacesOf(c);
  if (c.face === 'authorization') {
    const spec = sarSpecOf(c);
    return authorizationInput(spec, agents, namespaces.lookup(spec.resourceAttributes?.namespace ?? ''));
  }
  if (c.face === 'toolcall') {
    const req = toolCallOf(c);
    return toolCallInput(req, actorFrom(agents, c.user), namespaces.lookup(req.tool.target.namespace ?? ''));
  }
  const actor = actorFrom(agents, c.user);
  const context = contextFromApi(c.context);
  if (c.face === 'prompt') {
    const text = c.text ?? (typeof c.content?.text === 'string' ? c.content.text : undefined);
    if (text === undefined) throw new Error('a prompt case needs "text" (or content: {text})');
    return (await promptInput({ text, context }, actor)).input;
  }
  const tool: ToolCall = c.tool ? toolCallOf(c).tool : { name: '', arguments: {}, target: targetOf(c, {}) };
  const result = resultOf(c);
  return toolResultInput({ tool, ...result, context }, actor, namespaces.lookup(tool.target.namespace ?? '')).input;
}

/** A tool result case's result as a caller of the gate would send it: text, or a JSON value. */
function resultOf(c: FixtureCase): { result: unknown; format?: 'json' | 'yaml' } {
  const content = c.content ?? {};
  const format = content.format === 'json' || content.format === 'yaml' ? content.format : undefined;
  if (c.text !== undefined) return { result: c.text };
  if (typeof content.text === 'string') return { result: content.text };
  // A value said to be YAML arrives as YAML text; a string value is text as it stands.
  if (format === 'yaml' && typeof content.value !== 'string') return { result: yamlText(content.value), format };
  return { result: content.value ?? null, ...(format && typeof content.value === 'string' ? { format } : {}) };
}

/** A SubjectAccessReview spec: the case's review, with the case's own fields filling in or overriding. */
function sarSpecOf(c: FixtureCase): SubjectAccessReviewSpec {
  let spec: SubjectAccessReviewSpec = {};
  if (c.review) {
    if (c.review.kind !== 'SubjectAccessReview' || !isObject(c.review.spec)) {
      throw new Error(`"review" must be a SubjectAccessReview with a "spec" (got kind ${JSON.stringify(c.review.kind ?? null)})`);
    }
    spec = structuredClone(c.review.spec) as SubjectAccessReviewSpec;
  }
  const user = withContextExtra(
    c.actorGiven || spec.user === undefined ? c.user : { username: spec.user, groups: spec.groups ?? [], ...(spec.extra ? { extra: spec.extra } : {}) },
    c.context,
  );
  const attrs = { ...(spec.resourceAttributes ?? {}) };
  if (c.verb !== undefined) attrs.verb = c.verb;
  if (c.resource) {
    attrs.resource = c.resource.resource;
    if (c.resource.group !== undefined) attrs.group = c.resource.group;
    if (c.resource.version !== undefined) attrs.version = c.resource.version;
  }
  if (c.subresource !== undefined) attrs.subresource = c.subresource;
  if (c.namespace !== undefined) attrs.namespace = c.namespace;
  if (c.resourceName !== undefined) attrs.name = c.resourceName;
  return {
    ...spec,
    user: user.username ?? '',
    groups: user.groups ?? [],
    ...(user.extra ? { extra: user.extra } : {}),
    resourceAttributes: attrs,
  };
}

/** The agent gate's tool-call request; top-level verb, kind, namespace… fill what `tool.target` leaves out. */
function toolCallOf(c: FixtureCase): ToolCallRequest {
  const tool = c.tool!;
  return {
    tool: { name: String(tool.name), arguments: isObject(tool.arguments) ? (tool.arguments as JsonObject) : {}, target: targetOf(c, tool.target) },
    context: contextFromApi(c.context),
    dryRun: c.dryRun === true,
  };
}

function targetOf(c: FixtureCase, given: unknown): ToolTarget {
  const target: ToolTarget = {};
  if (isObject(given)) {
    for (const [k, v] of Object.entries(given)) if (typeof v === 'string') (target as Record<string, string>)[k] = k === 'verb' ? v.toLowerCase() : v;
  }
  const fill = (k: keyof ToolTarget, v: string | undefined) => {
    if (v !== undefined && target[k] === undefined) target[k] = v;
  };
  fill('verb', c.verb?.toLowerCase());
  fill('kind', c.kind);
  fill('resource', c.resource?.resource);
  fill('group', c.resource?.group);
  fill('version', c.resource?.version);
  fill('namespace', c.namespace);
  fill('name', c.resourceName);
  fill('subresource', c.subresource);
  return target;
}
