// The agent API's tool-call request: decoded and checked here, then
// turned into the policy input. The caller says what the tool does to
// Kubernetes (`target`: verb, group/kind, namespace, name, cluster); policy
// can also work it out from the tool's name and arguments. The arguments are
// scanned for secrets (src/scan) and policy gets the findings beside them.

import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Actor, AgentContext, JsonObject, NamespaceInfo, PolicyInput, ResourceRef, ToolCall, ToolCallRequest, ToolTarget } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { scanResult } from '../redact/toolresult.js';
import { contextFrom, contextFromApi } from './context.js';

const TARGET_FIELDS = ['verb', 'group', 'version', 'kind', 'resource', 'subresource', 'namespace', 'name', 'cluster'] as const;
const MAX_NAME = 256;

const OPERATIONS: Record<string, string> = {
  create: 'CREATE',
  update: 'UPDATE',
  patch: 'UPDATE',
  apply: 'UPDATE',
  delete: 'DELETE',
  deletecollection: 'DELETE',
  connect: 'CONNECT',
};

/** Reads `tool` ({name, arguments, target}) from a body; `target` may also sit at the top level. */
export function decodeTool(body: Record<string, unknown>, { required = true } = {}): ToolCall | null {
  const raw = body.tool;
  if (raw === undefined || raw === null) {
    if (required) throw new BelayError('bad_request', '"tool" is required: {"name": "resources_delete", "arguments": {…}}');
    return null;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BelayError('bad_request', '"tool" must be an object with "name" and "arguments"');
  const t = raw as Record<string, unknown>;
  if (typeof t.name !== 'string' || t.name === '' || t.name.length > MAX_NAME) {
    throw new BelayError('bad_request', `"tool.name" must be a non-empty string of at most ${MAX_NAME} characters`);
  }
  const args = t.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new BelayError('bad_request', '"tool.arguments" must be an object');
  const target = decodeTarget(t.target ?? body.target);
  if (t.object !== undefined && (typeof t.object !== 'object' || t.object === null || Array.isArray(t.object))) {
    throw new BelayError('bad_request', '"tool.object" must be the object the call writes (a JSON object)');
  }
  return { name: t.name, arguments: args as JsonObject, target, ...(t.object ? { object: t.object as JsonObject } : {}) };
}

function decodeTarget(raw: unknown): ToolTarget {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BelayError('bad_request', '"target" must be an object');
  const o = raw as Record<string, unknown>;
  const target: ToolTarget = {};
  for (const f of TARGET_FIELDS) {
    const v = o[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length > MAX_NAME) throw new BelayError('bad_request', `"target.${f}" must be a string of at most ${MAX_NAME} characters`);
    target[f] = f === 'verb' ? v.toLowerCase() : v;
  }
  return target;
}

export function decodeRequestId(body: Record<string, unknown>): string | undefined {
  const id = body.requestId;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || id === '' || id.length > MAX_NAME)
    throw new BelayError('bad_request', `"requestId" must be a non-empty string of at most ${MAX_NAME} characters`);
  return id;
}

export function decodeContext(body: Record<string, unknown>): AgentContext {
  const c = body.context;
  if (c === undefined || c === null) return {};
  if (typeof c !== 'object' || Array.isArray(c))
    throw new BelayError('bad_request', '"context" must be an object ({"workflow", "confidence", "rationale", …})');
  return contextFromApi(c);
}

export function decodeToolCallRequest(body: Record<string, unknown>): ToolCallRequest {
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new BelayError('bad_request', '"dryRun" must be a boolean');
  const requestId = decodeRequestId(body);
  return {
    tool: decodeTool(body)!,
    context: decodeContext(body),
    ...(requestId ? { requestId } : {}),
    dryRun: body.dryRun === true,
  };
}

/** The agent context: the body's, else what the caller's identity carries (impersonation extra). */
export function agentContext(given: AgentContext, actor: Actor): AgentContext {
  return Object.keys(given).length > 0 ? given : contextFrom(null, actor.extra);
}

/**
 * The tool as policy sees it: name, arguments and target, and what the
 * secret scan found in the arguments (`findings`: kind, rule, pointer into
 * the arguments, span; never a value), or `scanStatus` and `scanMessage`
 * when they could not be scanned within the bounds.
 */
export function toolInput(tool: ToolCall, { timeoutMs }: { timeoutMs?: number } = {}): JsonObject {
  const s = scanResult(tool.arguments, timeoutMs !== undefined ? { timeoutMs } : {});
  return {
    name: tool.name,
    arguments: tool.arguments,
    target: { ...tool.target },
    findings: s.findings as never,
    ...(s.status !== 'ok' ? { scanStatus: s.status, scanMessage: s.message ?? s.status } : {}),
  };
}

export function toolCallInput(req: ToolCallRequest, actor: Actor, namespace: NamespaceInfo | null, scan: { timeoutMs?: number } = {}): PolicyInput {
  const { tool } = req;
  const verb = tool.target.verb ?? '';
  const context = agentContext(req.context, actor);
  return {
    face: 'toolcall',
    actor,
    action: { operation: OPERATIONS[verb] ?? verb.toUpperCase(), verb, subresource: tool.target.subresource ?? '', dryRun: req.dryRun },
    resource: resourceOf(tool.target),
    // A manifest argument is the object (policy reads it from the arguments); else what the caller says the call writes.
    object: tool.object && !manifestArgument(tool.arguments) ? tool.object : null,
    oldObject: null,
    options: null,
    dryRun: req.dryRun,
    namespace,
    context: tool.target.cluster && !context.cluster ? { ...context, cluster: tool.target.cluster } : context,
    tool: toolInput(tool, scan),
    content: null,
  };
}

export function resourceOf(target: ToolTarget): ResourceRef {
  return {
    group: target.group ?? '',
    version: target.version ?? '',
    kind: target.kind ?? '',
    resource: target.resource ?? '',
    namespace: target.namespace ?? '',
    name: target.name ?? '',
  };
}

/**
 * The target of an edited call: what the approver's arguments say (a manifest
 * argument's kind, namespace and name, or plain namespace/name/kind
 * arguments) replaces what the caller declared for the original arguments.
 */
export function retarget(target: ToolTarget, args: JsonObject): ToolTarget {
  const next: ToolTarget = { ...target };
  const manifest = toolManifest(args);
  const source: Record<string, unknown> = manifest
    ? {
        kind: manifest.kind,
        apiVersion: manifest.apiVersion,
        namespace: (manifest.metadata as JsonObject | undefined)?.namespace,
        name: (manifest.metadata as JsonObject | undefined)?.name,
      }
    : args;
  if (typeof source.kind === 'string') {
    next.kind = source.kind;
    delete next.resource;
  }
  if (typeof source.apiVersion === 'string') {
    const [group, version] = source.apiVersion.includes('/') ? source.apiVersion.split('/') : ['', source.apiVersion];
    next.group = group ?? '';
    next.version = version ?? '';
  }
  if (typeof source.namespace === 'string') next.namespace = source.namespace;
  else if (manifest) delete next.namespace;
  if (typeof source.name === 'string') next.name = source.name;
  return next;
}

/** The object a call writes, from its arguments (see manifestArgument). */
export function toolManifest(args: JsonObject): JsonObject | null {
  return manifestArgument(args)?.object ?? null;
}

/** The arguments that carry the object a tool writes (kubernetes-mcp-server's `resource`, and common names). */
const MANIFEST_KEYS = ['resource', 'object', 'manifest'] as const;

export interface ManifestArgument {
  readonly key: string;
  readonly object: JsonObject;
  /** How the caller sent it: as an object, or as JSON or YAML text. */
  readonly encoding: 'object' | 'json' | 'yaml';
}

/** The object a call writes, read from its arguments as policy reads it (lib/request.rego tool_object). */
export function manifestArgument(args: JsonObject): ManifestArgument | null {
  for (const key of MANIFEST_KEYS) {
    const v = args[key];
    if (isObject(v)) return { key, object: v, encoding: 'object' };
  }
  for (const key of MANIFEST_KEYS) {
    const v = args[key];
    if (typeof v !== 'string') continue;
    try {
      const parsed = parseYaml(v, { maxAliasCount: 100 }) as unknown;
      if (isObject(parsed)) return { key, object: parsed, encoding: v.trimStart().startsWith('{') ? 'json' : 'yaml' };
    } catch {
      // Not a manifest: policy sees no object either.
    }
  }
  return null;
}

/** `tool`'s arguments with its manifest replaced by `object`, in the same encoding. */
export function withManifest(args: JsonObject, manifest: ManifestArgument, object: JsonObject): JsonObject {
  const value = manifest.encoding === 'object' ? object : manifest.encoding === 'json' ? JSON.stringify(object, null, 2) : toYaml(object);
  return { ...args, [manifest.key]: value };
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
