// A manifest passed to a tool (YAML or JSON text, or an object): the one
// Kubernetes object it describes, and where it lands. Several documents, or a
// List, are refused: each object is judged as its own call, so the agent
// sends one per call.

import { parseAllDocuments } from 'yaml';
import type { JsonObject } from '../../contract/index.js';
import type { ToolTarget } from '../gateway.js';
import { isNamespaced, splitApiVersion } from './kinds.js';
import type { KubeDefaults } from './kubeconfig.js';

export type ManifestRead = { ok: true; object: JsonObject } | { ok: false; message: string };

const MAX_ALIASES = 50;

export function readManifest(raw: unknown, argument: string): ManifestRead {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return checkObject(raw as JsonObject, argument);
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, message: `"${argument}" must be a Kubernetes object as YAML or JSON text` };
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(raw, { maxAliasCount: MAX_ALIASES } as never);
  } catch (err) {
    return { ok: false, message: `"${argument}" is not YAML or JSON: ${(err as Error).message.split('\n')[0]}` };
  }
  const list = (Array.isArray(docs) ? docs : [docs]).filter((d) => d.contents !== null);
  const broken = list.find((d) => d.errors.length > 0);
  if (broken) return { ok: false, message: `"${argument}" is not YAML or JSON: ${broken.errors[0]!.message.split('\n')[0]}` };
  if (list.length !== 1) {
    return {
      ok: false,
      message: `"${argument}" holds ${list.length} documents; belay judges one object per call, so send each object in a call of its own`,
    };
  }
  let value: unknown;
  try {
    value = list[0]!.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    return { ok: false, message: `"${argument}" cannot be read: ${(err as Error).message.split('\n')[0]}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: `"${argument}" must be one Kubernetes object` };
  return checkObject(value as JsonObject, argument);
}

function checkObject(o: JsonObject, argument: string): ManifestRead {
  if (typeof o.kind !== 'string' || o.kind === '' || typeof o.apiVersion !== 'string' || o.apiVersion === '') {
    return { ok: false, message: `the object in "${argument}" needs "apiVersion" and "kind"` };
  }
  if (o.kind === 'List' || o.kind.endsWith('List')) {
    return { ok: false, message: `"${argument}" is a ${o.kind}; belay judges one object per call, so send each item in a call of its own` };
  }
  return { ok: true, object: o };
}

/** The target of writing `object`: its kind and group, its namespace (the default one for namespaced kinds), its name. */
export function manifestTarget(object: JsonObject, verb: string, kube: KubeDefaults, context: string | undefined, namespaceArg?: string): ToolTarget {
  const { group, version } = splitApiVersion(object.apiVersion as string);
  const kind = object.kind as string;
  const metadata = (typeof object.metadata === 'object' && object.metadata !== null ? object.metadata : {}) as JsonObject;
  const ns = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  const target: ToolTarget = { verb, group, version, kind };
  if (isNamespaced(kind, group)) target.namespace = ns ?? (namespaceArg || kube.namespace(context));
  if (typeof metadata.name === 'string' && metadata.name !== '') target.name = metadata.name;
  return target;
}
