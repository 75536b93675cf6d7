// `belay check`: manifests checked as an agent's write of them would be — each
// document of a YAML or JSON file submitted as a CREATE through the webhook's
// own decision code (mutate, then validate on the patched object) — and, with
// --fix, the policy's fixes written into the text in place: only the lines a
// fix changes are touched (edit-yaml.ts, edit-json.ts), and the edited text is
// parsed again and must equal the patched object before anything is written.
// Files are read as kubectl reads them: empty documents and a trailing `---`
// are skipped, a duplicate key keeps its last value (with a warning).

import { isDeepStrictEqual } from 'node:util';
import fastJsonPatch from 'fast-json-patch';
import { type Document, isScalar, parseAllDocuments, parseDocument, visit } from 'yaml';
import type { ActivePolicy } from '../bundle/active.js';
import type { JsonObject, PatchOperation, Reason } from '../contract/index.js';
import { denialMessage } from '../decide/messages.js';
import type { UserInfo } from '../identity/agents.js';
import { IMAGE_RULES, type ImageFactsSource } from '../images/source.js';
import type { AdmissionRequest } from '../input/admission.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { editJson } from './edit-json.js';
import { detectStyle, editYamlDocument, InPlaceEditError, PARSE_OPTIONS, type YamlStyle } from './edit-yaml.js';
import { caseUid, pluralOf } from './requests.js';
import { admit, observeAdmission } from './runner.js';

/**
 * pass: admitted unchanged; fixable: admitted only with fixes (not written);
 * fixed: the fixes were written; deny; defer: needs a human decision; human:
 * needs a human change (a fix that is not safe to make automatically, e.g.
 * runAsNonRoot on a root image); error.
 */
export type DocStatus = 'pass' | 'fixed' | 'fixable' | 'deny' | 'defer' | 'human' | 'error';

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
  /** Write the fixes into the text (in place: untouched lines keep their bytes). */
  fix?: boolean;
  /** With fix: compute the fixed text to show it, but report the objects as "would fix". */
  preview?: boolean;
  /** Image facts, asked for when a fix depends on the image (as the webhook asks); absent: unknown. */
  images?: ImageFactsSource;
}

export interface FileCheck {
  results: DocResult[];
  /** The text with the fixes written in, when --fix changed something. */
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

function pointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Duplicate keys, as kubectl's decoder reads them: accepted, the last value wins. */
function duplicateKeys(doc: Document, text: string): string[] {
  const out: string[] = [];
  visit(doc, {
    Map(_, map) {
      // Offsets, not lines: a line number is counted only for a duplicate.
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const at = pair.key.range?.[0] ?? 0;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, at);
        else
          out.push(
            `duplicate key "${key}" on line ${lineOf(text, at)} (first on line ${lineOf(text, first)}): kubectl keeps the last value, and so does belay`,
          );
      }
    },
  });
  return out;
}

/** The policy's "belay fixed: …" warnings, worded for what check actually did. */
function reword(warnings: readonly string[], fixed: boolean): string[] {
  return warnings.map((w) => w.replace(/^belay fixed: /, fixed ? 'fixed: ' : 'would fix: '));
}

interface Pending {
  result: DocResult;
  ops: PatchOperation[];
  /** The policy's warnings as it wrote them. */
  warnings: string[];
}

export async function checkManifest(file: string, text: string, policy: ActivePolicy, options: CheckOptions): Promise<FileCheck> {
  const isJson = /\.json$/i.test(file);
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  const list = Array.isArray(docs) ? docs : [];
  const results: DocResult[] = [];
  const edited: (string | null)[] = list.map(() => null);
  // Each document's own text: from the end of the one before (its `---` and leading comments) to its end.
  const bounds = list.map((d, i) => [i === 0 ? 0 : list[i - 1]!.range[2], d.range[2]] as const);
  let style: YamlStyle | undefined;

  for (const [d, doc] of list.entries()) {
    const base = { file, doc: d + 1, line: lineOf(text, doc.contents?.range?.[0] ?? doc.range[0]), reasons: [], patch: [], warnings: [] };
    if (doc.errors.length > 0) {
      results.push({ ...base, kind: '', name: '', namespace: '', status: 'error', message: `invalid YAML: ${doc.errors[0]!.message}` });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    // An empty document (a trailing `---`, comments only) is skipped, as kubectl skips it.
    if (value === null || value === undefined) continue;
    const duplicates = duplicateKeys(doc, text);
    const objects: { object: unknown; item?: number; prefix: (string | number)[] }[] = [];
    const v = value as JsonObject;
    if (typeof v === 'object' && !Array.isArray(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (const [i, object] of v.items.entries()) objects.push({ object, item: i + 1, prefix: ['items', i] });
    } else objects.push({ object: value, prefix: [] });

    const pending: Pending[] = [];
    for (const { object, item, prefix } of objects) {
      const o = object as JsonObject;
      const where = { ...base, ...(item ? { item } : {}) };
      if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
        results.push({
          ...where,
          kind: '',
          name: '',
          namespace: '',
          status: 'error',
          message: 'not a Kubernetes object (needs apiVersion and kind)',
          warnings: duplicates,
        });
        continue;
      }
      const req = requestFor(o, `${file}#${d + 1}${item ? `.${item}` : ''}`, options);
      const seen = observeAdmission(await admit(req, policy, directory(options), options.images));
      const result: DocResult = {
        ...where,
        kind: o.kind,
        name: req.name ?? '',
        namespace: req.namespace ?? '',
        status: 'pass',
        reasons: seen.reasons,
        patch: seen.patch,
        warnings: [...duplicates, ...reword(seen.warnings, false)],
      };
      if (seen.decision === 'error') {
        result.status = 'error';
        result.message = seen.error ?? seen.message ?? 'evaluation failed';
      } else if (seen.decision === 'defer') {
        // Offline there is no approval store: say what a person must do, not how to get an approval.
        // A reason in the images. family is a fix that depends on the image: a person must change
        // the workload (image or runAsUser); an approval alone would not make it start.
        result.status = seen.reasons.some((r) => IMAGE_RULES.test(r.rule)) ? 'human' : 'defer';
        result.message = denialMessage(seen.reasons, 'policy wants a person to decide this change');
      } else if (seen.decision === 'deny') {
        result.status = 'deny';
        result.message = seen.message ?? denialMessage(seen.reasons, 'denied by policy');
      } else if (seen.patch.length > 0) {
        result.status = 'fixable';
        pending.push({ result, ops: seen.patch.map((op) => ({ ...op, path: pointer(prefix) + op.path }) as PatchOperation), warnings: seen.warnings });
      }
      results.push(result);
    }
    if (!options.fix || pending.length === 0) continue;

    const ops = pending.flatMap((p) => p.ops);
    const [start, end] = bounds[d]!;
    try {
      const expected = fastJsonPatch.applyPatch(structuredClone(value), structuredClone(ops) as never, true, false).newDocument;
      if (isJson) {
        const out = editJson(text, ops);
        if (!isDeepStrictEqual(JSON.parse(out), expected)) throw new InPlaceEditError('the edited JSON does not read back as the fixed object');
        edited[d] = out;
      } else {
        style ??= detectStyle(text);
        const out = editYamlDocument(text.slice(start, end), ops, style);
        const back = parseDocument(out, PARSE_OPTIONS);
        if (back.errors.length > 0 || !isDeepStrictEqual(back.toJS({ maxAliasCount: 100 }), expected)) {
          throw new InPlaceEditError('the edited YAML does not read back as the fixed object');
        }
        edited[d] = out;
      }
      if (!options.preview) {
        for (const p of pending) {
          p.result.status = 'fixed';
          p.result.warnings = [...duplicates, ...reword(p.warnings, true)];
        }
      }
    } catch (err) {
      const why = err instanceof InPlaceEditError ? err.message : (err as Error).message;
      for (const p of pending) {
        p.result.status = 'error';
        p.result.message = `the fix cannot be written in place (${why}); the file is left as it was for this document: ${JSON.stringify(p.ops)}`;
      }
    }
  }

  if (edited.every((e) => e === null)) return { results };
  if (isJson) return { results, fixed: edited.find((e) => e !== null)! };
  let out = '';
  for (const [i, [start, end]] of bounds.entries()) out += edited[i] ?? text.slice(start, end);
  out += text.slice(bounds.length ? bounds[bounds.length - 1]![1] : 0);
  return { results, fixed: out };
}
