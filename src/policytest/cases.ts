// Fixture cases (policy-tests/cases/*.yaml): reading and checking the files.
// A typo in a case must fail loudly, never make the case pass vacuously, so
// every key is checked and each error names its file, line and field.
// The format is documented in policy-tests/README.md.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { FACES, type Face, type ImageFactsInput, type JsonObject, type TrustMode, type Verdict } from '../contract/index.js';
import { BelayError } from '../errors.js';
import type { UserInfo } from '../identity/agents.js';
import { statedFacts } from '../images/source.js';

export const ACTORS: Readonly<Record<'agent' | 'human' | 'admin', Required<Pick<UserInfo, 'username' | 'groups'>>>> = {
  agent: { username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] },
  human: { username: 'bob', groups: ['system:authenticated'] },
  admin: { username: 'admin', groups: ['system:masters'] },
};

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const ADMISSION_VERBS: Record<Operation, string> = { CREATE: 'create', UPDATE: 'update', DELETE: 'delete', CONNECT: 'connect' };
const VERDICTS: readonly string[] = ['allow', 'deny', 'defer'];
const MODES: readonly string[] = ['observe', 'selective', 'approve', 'automate'];

export interface Expectation {
  decision: Verdict;
  /** Rule ids that must all appear among the reasons. */
  rules?: string[];
  /** Rule ids that must not appear. */
  notRules?: string[];
  /** A regular expression the first reason's message must match. */
  message?: string;
  /** A subset the object must match after the fixes. */
  patched?: JsonObject;
  /** Whether a patch must (true) or must not (false) be sent. */
  fixed?: boolean;
  /** Regular expressions; each must match at least one warning. */
  warnings?: string[];
  mode?: TrustMode;
  wouldBe?: Verdict | null;
  /** JSON pointers that must all be among the decision's redact paths. */
  redact?: string[];
}

/** What a case asks, after defaults and file references are resolved. */
export interface FixtureCase {
  /** "cases/x.yaml#2": file relative to the suite root, then document number when the file holds several. */
  id: string;
  name: string;
  file: string;
  line: number;
  face: Face;
  user: UserInfo;
  /** The case named its actor explicitly (overrides a review's userInfo). */
  actorGiven: boolean;
  operation?: Operation;
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  subresource?: string;
  resourceName?: string;
  resource?: { group?: string; version?: string; resource: string };
  object?: JsonObject | null;
  oldObject?: JsonObject | null;
  /** A whole AdmissionReview (admission) or SubjectAccessReview (authorization). */
  review?: JsonObject;
  context?: JsonObject;
  dryRun?: boolean;
  verb?: string;
  kind?: string;
  tool?: JsonObject;
  content?: JsonObject;
  text?: string;
  /** Facts about the images the object runs, as a registry would give them (docs/images.md). */
  images?: Record<string, ImageFactsInput>;
  expect: Expectation;
}

const CASE_KEYS = new Set([
  'name',
  'face',
  'actor',
  'operation',
  'namespace',
  'namespaceLabels',
  'subresource',
  'resourceName',
  'resource',
  'kind',
  'object',
  'objectFile',
  'oldObject',
  'oldObjectFile',
  'review',
  'reviewFile',
  'context',
  'dryRun',
  'verb',
  'tool',
  'content',
  'text',
  'images',
  'expect',
]);
const IMAGE_KEYS = new Set(['user', 'known', 'reason', 'digest', 'platform']);
const EXPECT_KEYS = new Set(['decision', 'rules', 'notRules', 'message', 'patched', 'fixed', 'warnings', 'mode', 'wouldBe', 'redact']);

/** A case file that cannot be used; the suite stops (exit 2), as a broken test is no test. */
export class CaseError extends BelayError {
  constructor(where: string, message: string) {
    super('bad_request', `${where}: ${message}`);
  }
}

/** Every *.yaml, *.yml and *.json under `dir` (or `dir` itself when it is a file), sorted, so runs are repeatable. */
export function listCaseFiles(dir: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (st.isFile()) return [dir];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(entry.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** A case (or case file) that cannot be used: reported as an error item, never skipped. */
export interface CaseProblem {
  id: string;
  file: string;
  line: number;
  message: string;
}

export interface LoadedCases {
  cases: FixtureCase[];
  problems: CaseProblem[];
}

/**
 * Loads every case under `dir`; `root` is what ids are relative to. A broken
 * case is a problem of its own, so one typo does not hide every other result.
 */
export function loadCases(dir: string, root: string = path.dirname(dir)): LoadedCases {
  const cases: FixtureCase[] = [];
  const problems: CaseProblem[] = [];
  for (const file of listCaseFiles(dir)) {
    const loaded = loadCaseFile(file, root);
    cases.push(...loaded.cases);
    problems.push(...loaded.problems);
  }
  const seen = new Map<string, string>();
  for (const c of cases) {
    const other = seen.get(c.name);
    if (other)
      problems.push({
        id: c.id,
        file: c.file,
        line: c.line,
        message: `duplicate case name ${JSON.stringify(c.name)} (also ${other}); names identify failures, keep them unique`,
      });
    seen.set(c.name, c.id);
  }
  return { cases, problems };
}

export function loadCaseFile(file: string, root: string): LoadedCases {
  const rel = path.relative(root, file) || path.basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { cases: [], problems: [{ id: rel, file, line: 1, message: `cannot read: ${(err as Error).message}` }] };
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return { cases: [], problems: [{ id: rel, file, line: 1, message: 'not a YAML stream' }] };
  const nonEmpty = docs.filter((d) => d.contents !== null);
  // Objects and reviews referenced by cases may sit beside them: a file of
  // Kubernetes documents (apiVersion and kind, which no case has) is not a case file.
  if (nonEmpty.length > 0 && nonEmpty.every((d) => d.errors.length === 0 && isKubernetesDocument(d.toJS()))) return { cases: [], problems: [] };
  const out: LoadedCases = { cases: [], problems: [] };
  nonEmpty.forEach((doc, i) => {
    const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const id = nonEmpty.length > 1 ? `${rel}#${i + 1}` : rel;
    try {
      if (doc.errors.length > 0) throw new CaseError(`${rel}:${line}`, `invalid YAML: ${doc.errors[0]!.message}`);
      const raw: unknown = doc.toJS({ maxAliasCount: 100 });
      out.cases.push(parseCase(raw, { id, where: `${rel}:${line}`, file, line }));
    } catch (err) {
      out.problems.push({ id, file, line, message: (err as Error).message });
    }
  });
  return out;
}

interface Origin {
  id: string;
  where: string;
  file: string;
  line: number;
}

export function parseCase(raw: unknown, origin: Origin): FixtureCase {
  const fail = (message: string): never => {
    throw new CaseError(origin.where, message);
  };
  if (!isObject(raw)) return fail('a case must be a mapping with at least name, face and expect');
  for (const key of Object.keys(raw)) {
    if (!CASE_KEYS.has(key)) fail(`unknown key ${JSON.stringify(key)} (allowed: ${[...CASE_KEYS].join(', ')})`);
  }
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '') fail('"name" must be a non-empty string');
  const face = raw.face ?? 'admission';
  if (typeof face !== 'string' || !(FACES as readonly string[]).includes(face)) fail(`"face" must be one of ${FACES.join(', ')}`);

  const c: FixtureCase = {
    id: origin.id,
    name: name as string,
    file: origin.file,
    line: origin.line,
    face: face as Face,
    user: actorOf(raw.actor ?? 'agent', fail),
    actorGiven: raw.actor !== undefined,
    expect: parseExpect(raw.expect, fail),
  };
  const dir = path.dirname(origin.file);

  if (raw.operation !== undefined) {
    if (typeof raw.operation !== 'string' || !OPERATIONS.includes(raw.operation)) fail(`"operation" must be one of ${OPERATIONS.join(', ')}`);
    c.operation = raw.operation as Operation;
  }
  if (raw.namespace !== undefined) c.namespace = str(raw.namespace, 'namespace', fail);
  if (raw.namespaceLabels !== undefined) c.namespaceLabels = stringMap(raw.namespaceLabels, 'namespaceLabels', fail);
  if (raw.subresource !== undefined) c.subresource = str(raw.subresource, 'subresource', fail);
  if (raw.resourceName !== undefined) c.resourceName = str(raw.resourceName, 'resourceName', fail);
  if (raw.kind !== undefined) c.kind = str(raw.kind, 'kind', fail);
  if (raw.verb !== undefined) c.verb = str(raw.verb, 'verb', fail);
  if (raw.text !== undefined) c.text = str(raw.text, 'text', fail);
  if (raw.dryRun !== undefined) {
    if (typeof raw.dryRun !== 'boolean') fail('"dryRun" must be true or false');
    c.dryRun = raw.dryRun as boolean;
  }
  if (raw.resource !== undefined) {
    if (typeof raw.resource === 'string') c.resource = { resource: raw.resource };
    else if (isObject(raw.resource) && typeof raw.resource.resource === 'string') {
      const r = raw.resource;
      c.resource = {
        resource: r.resource as string,
        ...(typeof r.group === 'string' ? { group: r.group } : {}),
        ...(typeof r.version === 'string' ? { version: r.version } : {}),
      };
    } else fail('"resource" must be a plural resource name ("pods") or {group, version, resource}');
  }
  c.object = objectField(raw, 'object', dir, fail);
  c.oldObject = objectField(raw, 'oldObject', dir, fail);
  const review = objectField(raw, 'review', dir, fail);
  if (review) c.review = review;
  if (raw.context !== undefined) {
    if (!isObject(raw.context)) fail('"context" must be a mapping (workflow, confidence, rationale, remediationTarget, cluster)');
    c.context = raw.context as JsonObject;
  }
  if (raw.tool !== undefined) {
    if (!isObject(raw.tool) || typeof raw.tool.name !== 'string') fail('"tool" must be a mapping with at least "name"');
    c.tool = raw.tool as JsonObject;
  }
  if (raw.content !== undefined) {
    if (!isObject(raw.content)) fail('"content" must be a mapping: {value, format} or {text}');
    c.content = raw.content as JsonObject;
  }

  if (raw.images !== undefined) c.images = imagesOf(raw.images, fail);

  checkFaceFields(c, fail);
  return c;
}

/**
 * `images:` maps an image, as the object writes it, to what its config says:
 * `{user: "65532"}` (the config's User; "" for none, which is root) or
 * `{known: false, reason: "…"}` for an image a registry could not answer for.
 */
function imagesOf(raw: unknown, fail: (m: string) => never): Record<string, ImageFactsInput> {
  if (!isObject(raw)) return fail('"images" must map each image, as the object writes it, to {user} or {known: false, reason}');
  const out: Record<string, ImageFactsInput> = {};
  for (const [image, v] of Object.entries(raw)) {
    const where = `images.${image}`;
    if (!isObject(v)) fail(`"${where}" must be a mapping: {user: "65532"} or {known: false, reason: "…"}`);
    const f = v as Record<string, unknown>;
    for (const key of Object.keys(f)) if (!IMAGE_KEYS.has(key)) fail(`unknown key "${where}.${key}" (allowed: ${[...IMAGE_KEYS].join(', ')})`);
    if (f.known !== undefined && typeof f.known !== 'boolean') fail(`"${where}.known" must be true or false`);
    // YAML reads `user: 65532` as a number; the image config's User is text.
    const user = typeof f.user === 'number' && Number.isInteger(f.user) ? String(f.user) : f.user;
    if (f.known === false) {
      if (user !== undefined) fail(`"${where}": an unknown image has no user; give a reason instead`);
      out[image] = statedFacts({ known: false, ...(f.reason !== undefined ? { reason: str(f.reason, `${where}.reason`, fail) } : {}) });
      continue;
    }
    if (typeof user !== 'string') fail(`"${where}.user" must be the User the image config sets ("" when it sets none, which runs as root)`);
    if (f.reason !== undefined) fail(`"${where}.reason" is for unknown images (known: false)`);
    out[image] = statedFacts({
      user: user as string,
      ...(f.digest !== undefined ? { digest: str(f.digest, `${where}.digest`, fail) } : {}),
      ...(f.platform !== undefined ? { platform: str(f.platform, `${where}.platform`, fail) } : {}),
    });
  }
  return out;
}

function checkFaceFields(c: FixtureCase, fail: (m: string) => never): void {
  const has = (k: keyof FixtureCase) => c[k] !== undefined && c[k] !== null;
  switch (c.face) {
    case 'admission':
      if (c.verb !== undefined && c.verb !== ADMISSION_VERBS[c.operation ?? (c.object ? (c.oldObject ? 'UPDATE' : 'CREATE') : 'DELETE')]) {
        fail(
          `"verb" ${c.verb} does not match the operation: admission derives the verb from "operation" (CREATE create, UPDATE update, DELETE delete, CONNECT connect)`,
        );
      }
      if (!c.review && !c.object && !c.oldObject && !c.resource) fail('an admission case needs "object", "oldObject", "review" (or their *File forms)');
      if (!c.review && c.object === undefined && c.oldObject === undefined && !c.kind) fail('an admission case without an object needs "kind"');
      if (c.expect.patched && c.expect.fixed === false) fail('"expect.patched" and "expect.fixed: false" contradict each other');
      break;
    case 'authorization':
      if (!c.review && !(c.verb && c.resource)) fail('an authorization case needs "verb" and "resource", or a SubjectAccessReview in "review"');
      break;
    case 'toolcall':
      if (!has('tool')) fail('a toolcall case needs "tool": {name, arguments, target}');
      break;
    case 'toolresult':
      if (!has('content') && !has('text')) fail('a toolresult case needs "content" ({value, format}) or "text"');
      break;
    case 'prompt':
      if (!has('text') && !has('content')) fail('a prompt case needs "text"');
      break;
  }
  if (c.images && c.face !== 'admission' && c.face !== 'toolcall') fail('"images" applies to admission and toolcall cases (the faces that see pods)');
  if (c.face !== 'admission') {
    if (c.expect.patched || c.expect.fixed !== undefined)
      fail('"expect.patched" and "expect.fixed" apply to admission cases only (only the admission face patches objects)');
    if (c.object !== undefined || c.oldObject !== undefined) {
      fail(
        `a ${c.face} case cannot carry "object"/"oldObject": the ${c.face} input has none${c.face === 'toolcall' ? '; put the manifest where the tool receives it, e.g. tool.arguments.resource' : ''}`,
      );
    }
  }
}

function parseExpect(raw: unknown, fail: (m: string) => never): Expectation {
  if (!isObject(raw)) return fail('"expect" must be a mapping with at least "decision"');
  for (const key of Object.keys(raw)) {
    if (!EXPECT_KEYS.has(key)) fail(`unknown key "expect.${key}" (allowed: ${[...EXPECT_KEYS].join(', ')})`);
  }
  if (typeof raw.decision !== 'string' || !VERDICTS.includes(raw.decision)) fail(`"expect.decision" must be one of ${VERDICTS.join(', ')}`);
  const e: Expectation = { decision: raw.decision as Verdict };
  if (raw.rules !== undefined) e.rules = stringList(raw.rules, 'expect.rules', fail);
  if (raw.notRules !== undefined) e.notRules = stringList(raw.notRules, 'expect.notRules', fail);
  if (raw.warnings !== undefined) e.warnings = stringList(raw.warnings, 'expect.warnings', fail).map((p) => regexSource(p, 'expect.warnings', fail));
  if (raw.redact !== undefined) e.redact = stringList(raw.redact, 'expect.redact', fail);
  if (raw.message !== undefined) e.message = regexSource(str(raw.message, 'expect.message', fail), 'expect.message', fail);
  if (raw.patched !== undefined) {
    if (!isObject(raw.patched)) fail('"expect.patched" must be a mapping (a subset of the fixed object)');
    e.patched = raw.patched as JsonObject;
  }
  if (raw.fixed !== undefined) {
    if (typeof raw.fixed !== 'boolean') fail('"expect.fixed" must be true or false');
    e.fixed = raw.fixed as boolean;
  }
  if (raw.mode !== undefined) {
    if (typeof raw.mode !== 'string' || !MODES.includes(raw.mode)) fail(`"expect.mode" must be one of ${MODES.join(', ')}`);
    e.mode = raw.mode as TrustMode;
  }
  if (raw.wouldBe !== undefined) {
    if (raw.wouldBe !== null && (typeof raw.wouldBe !== 'string' || !VERDICTS.includes(raw.wouldBe)))
      fail(`"expect.wouldBe" must be null or one of ${VERDICTS.join(', ')}`);
    e.wouldBe = raw.wouldBe as Verdict | null;
  }
  return e;
}

function actorOf(raw: unknown, fail: (m: string) => never): UserInfo {
  if (typeof raw === 'string') {
    const preset = ACTORS[raw as keyof typeof ACTORS];
    if (!preset) fail(`"actor" must be agent, human, admin or {username, groups}, got ${JSON.stringify(raw)}`);
    return { username: preset!.username, groups: [...preset!.groups] };
  }
  if (!isObject(raw) || typeof raw.username !== 'string') return fail('"actor" must be agent, human, admin or {username, groups, extra}');
  const user: UserInfo = { username: raw.username, groups: raw.groups === undefined ? [] : stringList(raw.groups, 'actor.groups', fail) };
  if (raw.uid !== undefined) user.uid = str(raw.uid, 'actor.uid', fail);
  if (raw.extra !== undefined) {
    if (!isObject(raw.extra)) fail('"actor.extra" must map keys to lists of strings');
    user.extra = Object.fromEntries(
      Object.entries(raw.extra as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? [v] : stringList(v, `actor.extra.${k}`, fail)]),
    );
  }
  return user;
}

/** `object:` inline, or `objectFile:` relative to the case file (YAML or JSON). */
function objectField(
  raw: Record<string, unknown>,
  field: 'object' | 'oldObject' | 'review',
  dir: string,
  fail: (m: string) => never,
): JsonObject | null | undefined {
  const inline = raw[field];
  const ref = raw[`${field}File`];
  if (inline !== undefined && ref !== undefined) fail(`give "${field}" or "${field}File", not both`);
  if (ref !== undefined) {
    if (typeof ref !== 'string' || ref === '') fail(`"${field}File" must be a path relative to the case file`);
    const file = path.resolve(dir, ref as string);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return fail(`"${field}File" ${ref}: ${(err as Error).message}`);
    }
    const docs = parseAllDocuments(text);
    const values = (Array.isArray(docs) ? docs : []).filter((d) => d.contents !== null);
    if (values.length !== 1 || values[0]!.errors.length > 0) fail(`"${field}File" ${ref} must hold exactly one valid YAML or JSON document`);
    const value: unknown = values[0]!.toJS();
    if (!isObject(value)) fail(`"${field}File" ${ref} must hold a mapping`);
    return value as JsonObject;
  }
  if (inline === undefined) return undefined;
  if (inline === null) return null;
  if (!isObject(inline)) return fail(`"${field}" must be a mapping`);
  return inline as JsonObject;
}

function regexSource(pattern: string, field: string, fail: (m: string) => never): string {
  try {
    new RegExp(pattern);
  } catch (err) {
    fail(`"${field}" is not a valid regular expression: ${(err as Error).message}`);
  }
  return pattern;
}

function str(v: unknown, field: string, fail: (m: string) => never): string {
  if (typeof v !== 'string') fail(`"${field}" must be a string`);
  return v as string;
}

function stringList(v: unknown, field: string, fail: (m: string) => never): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(`"${field}" must be a list of strings`);
  return v as string[];
}

function stringMap(v: unknown, field: string, fail: (m: string) => never): Record<string, string> {
  if (!isObject(v)) fail(`"${field}" must map names to strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    // YAML reads `true` and `1` as non-strings; labels are strings, so coerce scalars.
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else fail(`"${field}.${k}" must be a string`);
  }
  return out;
}

function isKubernetesDocument(v: unknown): boolean {
  return isObject(v) && typeof v.apiVersion === 'string' && typeof v.kind === 'string';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
