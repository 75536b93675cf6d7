// `belay check`: manifests checked as an agent's write of them would be — each
// document of a YAML or JSON file submitted as a CREATE through the webhook's
// own decision code (mutate, then validate on the patched object) — and,
// with --fix, the compliant result written back into the YAML with its
// comments and layout kept (only the documents that change are re-rendered).

import fastJsonPatch from 'fast-json-patch';
import { type Document, isMap, isSeq, parseAllDocuments } from 'yaml';
import type { ActivePolicy } from '../bundle/active.js';
import type { JsonObject, PatchOperation, Reason } from '../contract/index.js';
import type { UserInfo } from '../identity/agents.js';
import type { AdmissionRequest } from '../input/admission.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { caseUid, pluralOf } from './requests.js';
import { admit, observeAdmission } from './runner.js';

export type DocStatus = 'pass' | 'fixed' | 'fixable' | 'deny' | 'defer' | 'error';

export interface DocResult {
  file: string;
  /** 1-based document number in the file, and item number inside a List. */
  doc: number;
  item?: number;
  line: number;
  kind: string;
  name: string;
  namespace: string;
  status: DocStatus;
  message?: string;
  reasons: Reason[];
  patch: PatchOperation[];
  warnings: string[];
}

export interface CheckOptions {
  user: UserInfo;
  /** Namespace for namespaced objects that name none. */
  namespace: string;
  namespaceLabels?: Record<string, string>;
  /** Apply fixes to the text (YAML keeps comments; JSON is re-indented). */
  fix?: boolean;
}

export interface FileCheck {
  results: DocResult[];
  /** The file with fixes applied, when --fix changed something. */
  fixed?: string;
}

/** Kinds that live outside namespaces (the common built-ins; CRDs say so with --namespace ''). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'APIService',
  'CSIDriver',
  'VolumeAttachment',
  'CertificateSigningRequest',
]);

function split(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function requestFor(object: JsonObject, id: string, options: CheckOptions): AdmissionRequest {
  const gv = split(String(object.apiVersion));
  const kind = String(object.kind);
  const meta = (object.metadata ?? {}) as JsonObject;
  const namespace = CLUSTER_SCOPED.has(kind) ? undefined : typeof meta.namespace === 'string' ? meta.namespace : options.namespace || undefined;
  return {
    uid: caseUid(id),
    kind: { ...gv, kind },
    resource: { ...gv, resource: pluralOf(kind) },
    requestKind: { ...gv, kind },
    requestResource: { ...gv, resource: pluralOf(kind) },
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
    ...(namespace ? { namespace } : {}),
    operation: 'CREATE',
    userInfo: options.user,
    object,
    oldObject: null,
    dryRun: true,
    options: null,
  };
}

function directory(options: CheckOptions): NamespaceDirectory {
  return { lookup: (name) => (name ? (options.namespaceLabels ? { name, labels: { ...options.namespaceLabels } } : { name }) : null), close() {} };
}

/** Applies RFC 6902 operations to a YAML document's tree, so comments and styles elsewhere stay. */
export function patchYaml(doc: Document, ops: readonly PatchOperation[], prefix: (string | number)[] = []): void {
  for (const op of ops) {
    const path = [
      ...prefix,
      ...op.path
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')),
    ];
    const key = path[path.length - 1]!;
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (op.op === 'remove') {
      doc.deleteIn(path.map((s) => (isSeq(parent) ? Number(s) : s)));
      continue;
    }
    if (op.op !== 'add' && op.op !== 'replace') throw new Error(`cannot write a "${op.op}" fix into YAML`);
    const node = doc.createNode(op.value);
    if (isSeq(parent)) {
      if (key === '-') parent.items.push(node);
      else if (op.op === 'add') parent.items.splice(Number(key), 0, node);
      else parent.set(Number(key), node);
    } else if (isMap(parent)) {
      parent.set(key, node);
    } else {
      doc.setIn(path, node);
    }
  }
}

/** Whether the file writes block sequences flush with their key ("key:\n- a") rather than indented. */
function indentsSequences(text: string): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(text);
  return m ? m[2]!.length > m[1]!.length : true;
}

function statusOf(o: ReturnType<typeof observeAdmission>): DocStatus {
  if (o.decision === 'error') return 'error';
  if (o.decision === 'allow') return o.patch.length > 0 ? 'fixable' : 'pass';
  return o.decision;
}

export async function checkManifest(file: string, text: string, policy: ActivePolicy, options: CheckOptions): Promise<FileCheck> {
  const isJson = /\.json$/i.test(file);
  const parsed = parseAllDocuments(text, { keepSourceTokens: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  const results: DocResult[] = [];
  const changed = new Set<number>();
  const values: unknown[] = [];
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;

  for (const [d, doc] of docs.entries()) {
    if (doc.contents === null) continue;
    const base = { file, doc: d + 1, line: lineOf(doc.contents?.range?.[0] ?? doc.range[0]), reasons: [], patch: [], warnings: [] };
    if (doc.errors.length > 0) {
      results.push({ ...base, kind: '', name: '', namespace: '', status: 'error', message: `invalid YAML: ${doc.errors[0]!.message}` });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    values[d] = structuredClone(value);
    const objects: { object: unknown; item?: number; prefix: (string | number)[] }[] = [];
    const v = value as JsonObject;
    if (typeof v === 'object' && v !== null && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (const [i, object] of v.items.entries()) objects.push({ object, item: i + 1, prefix: ['items', i] });
    } else objects.push({ object: value, prefix: [] });

    for (const { object, item, prefix } of objects) {
      const o = object as JsonObject;
      if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
        results.push({
          ...base,
          ...(item ? { item } : {}),
          kind: '',
          name: '',
          namespace: '',
          status: 'error',
          message: 'not a Kubernetes object (needs apiVersion and kind)',
        });
        continue;
      }
      const req = requestFor(o, `${file}#${d + 1}${item ? `.${item}` : ''}`, options);
      const seen = observeAdmission(await admit(req, policy, directory(options)));
      let status = statusOf(seen);
      let message = seen.message ?? seen.error;
      if (status === 'fixable' && options.fix) {
        try {
          if (isJson)
            values[d] = fastJsonPatch.applyPatch(
              values[d],
              seen.patch.map((op) => ({ ...op, path: pointer(prefix) + op.path })) as never,
              true,
              true,
            ).newDocument;
          else patchYaml(doc, seen.patch, prefix);
          changed.add(d);
          status = 'fixed';
        } catch (err) {
          status = 'error';
          message = `the fix cannot be written back: ${(err as Error).message}`;
        }
      }
      results.push({
        ...base,
        ...(item ? { item } : {}),
        kind: o.kind,
        name: req.name ?? '',
        namespace: req.namespace ?? '',
        status,
        ...(message ? { message } : {}),
        reasons: seen.reasons,
        patch: seen.patch,
        warnings: seen.warnings,
      });
    }
  }

  if (changed.size === 0) return { results };
  if (isJson)
    return {
      results,
      fixed: `${JSON.stringify(
        values.find((v) => v !== undefined),
        null,
        2,
      )}\n`,
    };
  // Untouched documents keep their exact text; changed ones are rendered from their (commented) tree.
  const indentSeq = indentsSequences(text);
  let out = '';
  let prev = 0;
  docs.forEach((doc, i) => {
    const end = doc.range[2];
    out += changed.has(i) ? doc.toString({ indentSeq, flowCollectionPadding: false, lineWidth: 0 }) : text.slice(prev, end);
    prev = end;
  });
  out += text.slice(prev);
  return { results, fixed: out };
}

function pointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
