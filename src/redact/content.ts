// Redacts secrets in content of any shape and hands it back in that shape: a
// JSON value, JSON or YAML text (only the strings that held a secret change;
// everything else stays byte for byte), plain text (exactly the secret spans),
// or an MCP tool result's `content` array (each text item by its own format).
// Findings say where each secret was: a JSON pointer to the string and the
// span inside it. A scan that cannot finish returns no value at all, so a
// caller cannot pass on what was not checked.

import { type Document, isMap, isScalar, isSeq, type Node, parseAllDocuments } from 'yaml';
import {
  Budget,
  type FindingKind,
  fromJs,
  MAX_DEPTH,
  MAX_SCAN_LENGTH,
  REDACTED,
  redactSpans,
  type ScanOptions,
  type ScanStatus,
  type SNode,
  scan,
  structuredSecrets,
} from '../scan/index.js';
import { formatPointer } from './pointer.js';

export type ContentFormat = 'json' | 'yaml' | 'text' | 'mcp-content';

export interface ContentFinding {
  kind: FindingKind;
  rule: string;
  description: string;
  /** JSON pointer to the string that held the secret ("" for plain text; "/0/text" for an MCP item). */
  pointer: string;
  /** For a JSON or YAML document inside that string (text input, an MCP text item): the pointer inside it. */
  documentPointer?: string;
  /** The secret's span in that string's value, in UTF-16 code units. */
  start: number;
  end: number;
}

export interface RedactContentOptions extends Pick<ScanOptions, 'timeoutMs' | 'deadline' | 'maxFindings'> {
  /** How to read a string: by default JSON when it parses as JSON, YAML when it is a YAML mapping or sequence, else plain text. */
  format?: 'auto' | 'json' | 'yaml' | 'text';
  /** Most UTF-16 code units of text, in all strings together (default 16 Mi). */
  maxLength?: number;
}

export type ContentStatus = ScanStatus | 'too-deep';

export type RedactedContent =
  | { status: 'ok'; format: ContentFormat; value: unknown; findings: ContentFinding[]; elapsedMs: number }
  | { status: Exclude<ContentStatus, 'ok'>; format: ContentFormat; value: null; findings: ContentFinding[]; elapsedMs: number; message: string };

class Unscannable extends Error {
  constructor(
    readonly status: Exclude<ContentStatus, 'ok'>,
    message: string,
  ) {
    super(message);
  }
}

interface Context {
  budget: Budget;
  maxLength: number;
  maxFindings: number;
  /** Text scanned so far, against maxLength. */
  length: number;
  findings: ContentFinding[];
}

/** Redacts `input`; see RedactedContent for what comes back. */
export function redactContent(input: unknown, options: RedactContentOptions = {}): RedactedContent {
  const ctx: Context = {
    budget: new Budget(options),
    maxLength: options.maxLength ?? MAX_SCAN_LENGTH,
    maxFindings: options.maxFindings ?? 100_000,
    length: 0,
    findings: [],
  };
  const format: ContentFormat = typeof input === 'string' ? 'text' : isMcpContent(input) ? 'mcp-content' : 'json';
  try {
    if (typeof input === 'string') {
      const r = redactString(input, '', ctx, options.format ?? 'auto');
      return { status: 'ok', format: r.format, value: r.value, findings: ctx.findings, elapsedMs: ctx.budget.elapsed() };
    }
    if (format === 'mcp-content') {
      const value = (input as unknown[]).map((item, i) => redactMcpItem(item, i, ctx));
      return { status: 'ok', format, value, findings: ctx.findings, elapsedMs: ctx.budget.elapsed() };
    }
    return { status: 'ok', format, value: redactJsValue(input, '', ctx), findings: ctx.findings, elapsedMs: ctx.budget.elapsed() };
  } catch (err) {
    if (!(err instanceof Unscannable)) throw err;
    return { status: err.status, format, value: null, findings: ctx.findings, elapsedMs: ctx.budget.elapsed(), message: err.message };
  }
}

/** An MCP `content` array: items with a `type` of text, resource, image… */
export function isMcpContent(v: unknown): v is { type: string }[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((item) => typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string') &&
    v.some((item) => ['text', 'resource', 'image', 'audio', 'resource_link'].includes((item as { type: string }).type))
  );
}

function redactMcpItem(item: unknown, i: number, ctx: Context): unknown {
  const o = item as Record<string, unknown>;
  if (o.type === 'text' && typeof o.text === 'string') {
    return { ...o, text: redactString(o.text, formatPointer([i, 'text']), ctx, 'auto').value };
  }
  if (o.type === 'resource' && typeof o.resource === 'object' && o.resource !== null) {
    const res = o.resource as Record<string, unknown>;
    if (typeof res.text === 'string')
      return { ...o, resource: { ...res, text: redactString(res.text, formatPointer([i, 'resource', 'text']), ctx, 'auto').value } };
    return o;
  }
  // Images, audio and blobs carry no text; anything else is walked as JSON.
  if (o.type === 'image' || o.type === 'audio') return o;
  return redactJsValue(o, formatPointer([i]), ctx);
}

/** A string, read as JSON, YAML or plain text; `pointer` is where it sits in the input. */
function redactString(
  text: string,
  pointer: string,
  ctx: Context,
  format: RedactContentOptions['format'],
): { format: Exclude<ContentFormat, 'mcp-content'>; value: string } {
  count(ctx, text.length);
  const trimmed = text.trimStart();
  if (format === 'json' || (format === 'auto' && /^[[{]/.test(trimmed))) {
    let parsed: unknown;
    let ok = false;
    try {
      parsed = JSON.parse(text);
      ok = typeof parsed === 'object' && parsed !== null;
    } catch {
      ok = false;
    }
    // Text that is not JSON after all is still redacted, as text.
    if (ok) return { format: 'json', value: redactJsonText(text, parsed, pointer, ctx) };
  }
  if (format === 'yaml' || (format === 'auto' && looksLikeYaml(text))) {
    const y = redactYamlText(text, pointer, ctx);
    if (y !== null) return { format: 'yaml', value: y };
  }
  return { format: 'text', value: redactPlain(text, pointer, undefined, ctx) };
}

/** Every line at the left margin is a key, a list item, a document marker or a comment: a log with prose lines is not read as YAML. */
function looksLikeYaml(text: string): boolean {
  let keys = 0;
  for (const line of text.split('\n', 10_000)) {
    if (line === '' || /^[ \t#]/.test(line)) continue;
    if (/^(?:---|\.\.\.)(?:\s|$)|^- /.test(line)) continue;
    if (!/^(?:"[^"]*"|'[^']*'|[^\s:#"'][^:]*?):(?:[ \t]|$)/.test(line)) return false;
    keys++;
  }
  return keys > 0;
}

function count(ctx: Context, n: number): void {
  ctx.length += n;
  if (ctx.length > ctx.maxLength) throw new Unscannable('too-large', `the content holds more than ${ctx.maxLength} characters of text`);
  if (ctx.budget.expired()) throw new Unscannable('timeout', `redaction stopped at its ${Math.round(ctx.budget.deadline - ctx.budget.started)} ms deadline`);
}

/** Plain text: the scanner's spans, replaced. */
function redactPlain(text: string, pointer: string, documentPointer: string | undefined, ctx: Context): string {
  const r = scan(text, { deadline: ctx.budget.deadline, maxLength: Number.MAX_SAFE_INTEGER, maxFindings: ctx.maxFindings });
  if (r.status !== 'ok') throw new Unscannable(r.status, r.message ?? r.status);
  for (const f of r.findings) {
    addFinding(ctx, {
      kind: f.kind,
      rule: f.rule,
      description: f.description,
      pointer,
      ...(documentPointer !== undefined ? { documentPointer } : {}),
      start: f.start,
      end: f.end,
    });
  }
  return r.findings.length > 0 ? redactSpans(text, r.findings) : text;
}

function addFinding(ctx: Context, f: ContentFinding): void {
  ctx.findings.push(f);
  if (ctx.findings.length > ctx.maxFindings) throw new Unscannable('too-many-findings', `more than ${ctx.maxFindings} findings`);
}

/**
 * The strings of a tree that hold secrets: whole strings the structure
 * marks (a Secret's data, a credential-named key), and spans the scanner
 * finds inside the others. Returns each changed string's new value.
 */
function redactTree(root: SNode, ctx: Context, report: (path: (string | number)[], f: Omit<ContentFinding, 'pointer'>) => void): Map<SNode, string> {
  const whole = new Map<SNode, { kind: FindingKind; rule: string; description: string; path: (string | number)[] }>();
  structuredSecrets(root, (h) => {
    if (!whole.has(h.node)) whole.set(h.node, { kind: h.kind, rule: h.rule, description: h.description, path: h.path });
  });
  const out = new Map<SNode, string>();
  const visit = (node: SNode, path: (string | number)[], depth: number) => {
    if (depth > MAX_DEPTH) throw new Unscannable('too-deep', `the content nests deeper than ${MAX_DEPTH} levels`);
    if (node.t === 'map') for (const [k, v] of node.entries) visit(v, [...path, k], depth + 1);
    else if (node.t === 'seq') {
      for (const [i, v] of node.items.entries()) visit(v, [...path, i], depth + 1);
    } else if (node.t === 'str') {
      const w = whole.get(node);
      if (w) {
        report(path, { kind: w.kind, rule: w.rule, description: w.description, start: 0, end: node.value.length });
        out.set(node, REDACTED);
        return;
      }
      if (node.value.length < 8) return;
      count(ctx, node.value.length);
      const r = scan(node.value, { deadline: ctx.budget.deadline, maxLength: Number.MAX_SAFE_INTEGER, maxFindings: ctx.maxFindings });
      if (r.status !== 'ok') throw new Unscannable(r.status, r.message ?? r.status);
      if (r.findings.length === 0) return;
      for (const f of r.findings) report(path, { kind: f.kind, rule: f.rule, description: f.description, start: f.start, end: f.end });
      out.set(node, redactSpans(node.value, r.findings));
    }
  };
  visit(root, [], 0);
  return out;
}

/** A JSON value: a copy with the changed strings replaced. */
function redactJsValue(value: unknown, pointer: string, ctx: Context): unknown {
  const root = fromJs(value);
  if (root === null) throw new Unscannable('too-deep', `the content nests deeper than ${MAX_DEPTH} levels`);
  const changed = redactTree(root, ctx, (path, f) => addFinding(ctx, { ...f, pointer: pointer + formatPointer(path) }));
  if (changed.size === 0) return value;
  return rebuild(value, root, changed);
}

function rebuild(value: unknown, node: SNode, changed: Map<SNode, string>): unknown {
  if (node.t === 'str') return changed.get(node) ?? value;
  if (node.t === 'seq') return (value as unknown[]).map((v, i) => rebuild(v, node.items[i]!, changed));
  if (node.t === 'map') {
    const out: Record<string, unknown> = {};
    const src = value as Record<string, unknown>;
    node.entries.forEach(([k, child]) => {
      out[k] = rebuild(src[k], child, changed);
    });
    return out;
  }
  return value;
}

/** JSON text: changed strings re-encoded in place; unchanged text returned as given. */
function redactJsonText(text: string, parsed: unknown, pointer: string, ctx: Context): string {
  const root = fromJs(parsed);
  if (root === null) throw new Unscannable('too-deep', `the content nests deeper than ${MAX_DEPTH} levels`);
  const changed = redactTree(root, ctx, (path, f) => addFinding(ctx, { ...f, pointer, documentPointer: formatPointer(path) }));
  if (changed.size === 0) return text;
  const indent = /^\s*[[{]\s*\n([ \t]+)/.exec(text)?.[1] ?? '';
  return JSON.stringify(rebuild(parsed, root, changed), null, indent.startsWith('\t') ? '\t' : indent.length);
}

/** Aliases a YAML text may use; far fewer than a "billion laughs" needs. */
const MAX_ALIASES = 100;

/**
 * YAML text: each changed scalar's source is replaced by a double-quoted
 * string (valid in block and flow context alike); comments, keys and
 * layout stay as they were. Null when the text is not a YAML mapping or
 * sequence (the caller reads it as plain text instead).
 */
function redactYamlText(text: string, pointer: string, ctx: Context): string | null {
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false, keepSourceTokens: false }) as Document.Parsed[];
    if (!Array.isArray(docs) || docs.length === 0) return null;
    if (docs.some((d) => d.errors.length > 0 || !(isMap(d.contents) || isSeq(d.contents)))) return null;
    // Alias bombs: refuse to expand, read as text.
    for (const d of docs) d.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    return null;
  }
  const many = docs.length > 1;
  const edits: { from: number; to: number; value: string }[] = [];
  docs.forEach((doc, di) => {
    const root = fromYaml(doc.contents, 0);
    if (root === null) throw new Unscannable('too-deep', `the YAML nests deeper than ${MAX_DEPTH} levels`);
    const changed = redactTree(root.node, ctx, (path, f) => addFinding(ctx, { ...f, pointer, documentPointer: formatPointer(many ? [di, ...path] : path) }));
    for (const [node, value] of changed) {
      const range = root.ranges.get(node);
      if (!range) continue;
      // A block scalar's range ends after its last line break; the break stays.
      let to = range[1];
      while (to > range[0] && /[\s]/.test(text[to - 1]!)) to--;
      edits.push({ from: range[0], to, value: JSON.stringify(value) });
    }
  });
  if (edits.length === 0) return text;
  edits.sort((a, b) => a.from - b.from);
  let out = '';
  let at = 0;
  for (const e of edits) {
    if (e.from < at) continue;
    out += text.slice(at, e.from) + e.value;
    at = e.to;
  }
  return out + text.slice(at);
}

/** A YAML node as a tree, with each scalar's source range; aliases and non-string scalars are opaque. */
function fromYaml(node: unknown, depth: number): { node: SNode; ranges: Map<SNode, [number, number]> } | null {
  const ranges = new Map<SNode, [number, number]>();
  const walk = (n: unknown, d: number): SNode | null => {
    if (d > MAX_DEPTH) return null;
    if (isMap(n)) {
      const entries: [string, SNode][] = [];
      for (const pair of n.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const child = walk(pair.value, d + 1);
        if (child === null) return null;
        entries.push([key, child]);
      }
      return { t: 'map', entries };
    }
    if (isSeq(n)) {
      const items: SNode[] = [];
      for (const item of n.items) {
        const child = walk(item, d + 1);
        if (child === null) return null;
        items.push(child);
      }
      return { t: 'seq', items };
    }
    if (isScalar(n) && typeof n.value === 'string') {
      const s: SNode = { t: 'str', value: n.value };
      const range = (n as Node).range;
      if (range) ranges.set(s, [range[0], range[1]]);
      return s;
    }
    return { t: 'other' };
  };
  const root = walk(node, depth);
  return root === null ? null : { node: root, ranges };
}
