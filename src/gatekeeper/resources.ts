// Gatekeeper's resources as belay reads them from YAML: ConstraintTemplates
// (templates.gatekeeper.sh/v1, v1beta1, v1alpha1), Constraints
// (constraints.gatekeeper.sh/v1beta1, v1alpha1, v1) and the Config whose sync
// set names the kinds data.inventory holds (config.gatekeeper.sh). Every
// refusal names the file and the resource.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { JsonObject } from '../contract/index.js';

type JsonValue = unknown;

/** The target belay evaluates: Gatekeeper's admission target. */
export const ADMISSION_TARGET = 'admission.k8s.gatekeeper.sh';

export interface Template {
  /** metadata.name: the lower-cased kind, as Gatekeeper requires. */
  name: string;
  /** spec.crd.spec.names.kind: the Constraint kind it defines. */
  kind: string;
  rego: string;
  libs: string[];
  /** "v0" for `rego`, or the `code` source's version. */
  regoVersion: 'v0' | 'v1';
  /** openAPIV3Schema of spec.parameters, when the template gives one. */
  schema: JsonObject | null;
  file: string;
}

export type EnforcementAction = 'deny' | 'dryrun' | 'warn' | 'scoped' | 'defer';

export interface Constraint {
  kind: string;
  name: string;
  enforcementAction: string;
  scopedEnforcementActions: JsonValue[];
  match: JsonObject;
  parameters: JsonValue;
  /** belay's severity for the reason (annotation belay.dev/severity), default medium. */
  severity: string;
  file: string;
}

export interface SyncKind {
  group: string;
  version: string;
  kind: string;
}

export interface GatekeeperSources {
  templates: Template[];
  constraints: Constraint[];
  /** The union of every Config's spec.sync.syncOnly. */
  sync: SyncKind[];
}

export class GatekeeperError extends Error {
  override readonly name = 'GatekeeperError';
}

const SEVERITIES = new Set(['low', 'medium', 'high', 'critical']);
const KNOWN_ACTIONS = new Set(['deny', 'dryrun', 'warn', 'scoped', 'defer']);

/** Every YAML document of the .yaml/.yml files under `dir` (recursively, sorted), with its file. */
export function readYamlDocuments(target: string): { file: string; doc: JsonObject }[] {
  const files = statSync(target).isDirectory() ? yamlFiles(target) : [target];
  const out: { file: string; doc: JsonObject }[] = [];
  for (const file of files) out.push(...yamlDocumentsOf(file));
  return out;
}

export function yamlDocumentsOf(file: string): { file: string; doc: JsonObject }[] {
  const out: { file: string; doc: JsonObject }[] = [];
  for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (d.errors.length > 0) throw new GatekeeperError(`${file}: not valid YAML: ${d.errors[0]!.message}`);
    const doc = d.toJS({ maxAliasCount: 100 }) as unknown;
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new GatekeeperError(`${file}: a document is not a Kubernetes object`);
    if (isList(doc as JsonObject)) {
      for (const item of (doc as JsonObject).items as JsonValue[]) {
        if (typeof item === 'object' && item !== null && !Array.isArray(item)) out.push({ file, doc: item as JsonObject });
      }
    } else {
      out.push({ file, doc: doc as JsonObject });
    }
  }
  return out;
}

function isList(doc: JsonObject): boolean {
  return typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items);
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(entry.name)) out.push(p);
  }
  return out;
}

function group(apiVersion: unknown): string {
  return typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function isTemplate(doc: JsonObject): boolean {
  return group(doc.apiVersion) === 'templates.gatekeeper.sh' && doc.kind === 'ConstraintTemplate';
}

export function isConstraint(doc: JsonObject): boolean {
  return group(doc.apiVersion) === 'constraints.gatekeeper.sh';
}

export function isConfig(doc: JsonObject): boolean {
  return group(doc.apiVersion) === 'config.gatekeeper.sh' && doc.kind === 'Config';
}

function obj(v: JsonValue | undefined): JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
}

function metaName(doc: JsonObject): string {
  const n = obj(doc.metadata).name;
  return typeof n === 'string' ? n : '';
}

/** A ConstraintTemplate's admission target: its Rego, libs and Rego version. */
export function parseTemplate(doc: JsonObject, file: string): Template {
  const name = metaName(doc);
  const where = `${file}: ConstraintTemplate ${name || '(unnamed)'}`;
  if (!name) throw new GatekeeperError(`${where}: metadata.name is required`);
  const spec = obj(doc.spec);
  const crdSpec = obj(obj(spec.crd).spec);
  const kind = obj(crdSpec.names).kind;
  if (typeof kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) {
    throw new GatekeeperError(`${where}: spec.crd.spec.names.kind must name the Constraint kind (letters and digits)`);
  }
  if (name !== kind.toLowerCase()) {
    throw new GatekeeperError(`${where}: metadata.name must be the lower-cased kind ${kind.toLowerCase()}, as Gatekeeper requires`);
  }
  const targets = Array.isArray(spec.targets) ? spec.targets : [];
  const admission = targets.map(obj).filter((t) => t.target === ADMISSION_TARGET);
  if (admission.length !== 1) {
    throw new GatekeeperError(`${where}: needs exactly one target ${ADMISSION_TARGET} (found ${admission.length})`);
  }
  const target = admission[0]!;
  let rego = typeof target.rego === 'string' ? target.rego : '';
  let libs = Array.isArray(target.libs) ? target.libs : [];
  let regoVersion: 'v0' | 'v1' = 'v0';
  // `code` with a Rego engine takes precedence: it is how a template says its Rego version.
  const code = Array.isArray(target.code) ? target.code.map(obj) : [];
  const regoCode = code.find((c) => c.engine === 'Rego');
  if (regoCode) {
    const source = obj(regoCode.source);
    if (typeof source.rego === 'string') {
      rego = source.rego;
      libs = Array.isArray(source.libs) ? source.libs : [];
      const version = source.version;
      if (version !== undefined && version !== 'v0' && version !== 'v1') {
        throw new GatekeeperError(`${where}: code source version must be v0 or v1, not ${JSON.stringify(version)}`);
      }
      regoVersion = version === 'v1' ? 'v1' : 'v0';
    }
  }
  if (!rego.trim()) {
    const engines = code.map((c) => c.engine).filter((e) => typeof e === 'string');
    const other = engines.length > 0 ? ` (it has ${engines.join(', ')} code, which belay does not run)` : '';
    throw new GatekeeperError(`${where}: has no Rego for ${ADMISSION_TARGET}${other}`);
  }
  if (!libs.every((l) => typeof l === 'string')) throw new GatekeeperError(`${where}: every entry of libs must be Rego source text`);
  const validation = obj(crdSpec.validation);
  const schema = validation.openAPIV3Schema;
  return {
    name,
    kind,
    rego,
    libs: libs as string[],
    regoVersion,
    schema: typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as JsonObject) : null,
    file,
  };
}

export function parseConstraint(doc: JsonObject, file: string): Constraint {
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  const name = metaName(doc);
  const where = `${file}: Constraint ${kind || '(no kind)'}/${name || '(unnamed)'}`;
  if (!kind) throw new GatekeeperError(`${where}: kind is required`);
  if (!name) throw new GatekeeperError(`${where}: metadata.name is required`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
    throw new GatekeeperError(`${where}: metadata.name must be a lower-case RFC 1123 subdomain (letters, digits, '-' and '.')`);
  }
  const spec = obj(doc.spec);
  const action = spec.enforcementAction === undefined || spec.enforcementAction === '' ? 'deny' : spec.enforcementAction;
  if (typeof action !== 'string' || !KNOWN_ACTIONS.has(action.toLowerCase())) {
    throw new GatekeeperError(`${where}: enforcementAction ${JSON.stringify(action)} is not one of deny, dryrun, warn, scoped, defer`);
  }
  const scoped = Array.isArray(spec.scopedEnforcementActions) ? spec.scopedEnforcementActions : [];
  if (action.toLowerCase() === 'scoped') {
    if (scoped.length === 0) throw new GatekeeperError(`${where}: enforcementAction scoped needs scopedEnforcementActions`);
    for (const s of scoped.map(obj)) {
      const a = typeof s.action === 'string' ? s.action.toLowerCase() : '';
      if (!['deny', 'dryrun', 'warn', 'defer'].includes(a)) {
        throw new GatekeeperError(`${where}: scoped action ${JSON.stringify(s.action)} is not one of deny, dryrun, warn, defer`);
      }
    }
  }
  const severity = obj(obj(doc.metadata).annotations)['belay.dev/severity'] ?? 'medium';
  if (typeof severity !== 'string' || !SEVERITIES.has(severity)) {
    throw new GatekeeperError(`${where}: annotation belay.dev/severity must be low, medium, high or critical`);
  }
  return {
    kind,
    name,
    enforcementAction: action.toLowerCase(),
    scopedEnforcementActions: scoped,
    match: obj(spec.match),
    parameters: spec.parameters ?? {},
    severity,
    file,
  };
}

export function parseConfig(doc: JsonObject, file: string): SyncKind[] {
  const syncOnly = obj(obj(doc.spec).sync).syncOnly;
  if (syncOnly === undefined) return [];
  if (!Array.isArray(syncOnly)) throw new GatekeeperError(`${file}: Config ${metaName(doc)}: spec.sync.syncOnly must be a list`);
  return syncOnly.map(obj).map((s, i) => {
    if (typeof s.version !== 'string' || typeof s.kind !== 'string' || !s.version || !s.kind) {
      throw new GatekeeperError(`${file}: Config ${metaName(doc)}: syncOnly[${i}] needs version and kind`);
    }
    return { group: typeof s.group === 'string' ? s.group : '', version: s.version, kind: s.kind };
  });
}

/** Templates, Constraints and the sync set from every YAML file under `dir`; other documents are refused. */
export function loadGatekeeperSources(dir: string): GatekeeperSources {
  const sources: GatekeeperSources = { templates: [], constraints: [], sync: [] };
  for (const { file, doc } of readYamlDocuments(dir)) {
    if (isTemplate(doc)) sources.templates.push(parseTemplate(doc, file));
    else if (isConstraint(doc)) sources.constraints.push(parseConstraint(doc, file));
    else if (isConfig(doc)) sources.sync.push(...parseConfig(doc, file));
    else throw new GatekeeperError(`${file}: ${String(doc.apiVersion)} ${String(doc.kind)} is not a ConstraintTemplate, Constraint or Config`);
  }
  return sources;
}
