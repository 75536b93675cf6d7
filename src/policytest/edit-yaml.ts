// Writes RFC 6902 operations into YAML source text by splicing only what they
// touch: a replaced scalar is rewritten where it stands, a new key becomes new
// lines at its map's indentation, a removed key loses its lines. Every other
// byte stays as it was — comments, blank lines, flow style, quoting, CRLF.
// The yaml library's parse tree gives the source ranges; nothing is rendered
// from the tree except the new values themselves.

import { Document, isAlias, isCollection, isMap, isScalar, isSeq, type Node, type Pair, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import type { PatchOperation } from '../contract/index.js';

export class InPlaceEditError extends Error {
  override name = 'InPlaceEditError';
}

export interface YamlStyle {
  eol: '\n' | '\r\n';
  /** Spaces per nesting level of block maps. */
  indent: number;
  /** Block sequences indented under their key ("key:\n  - a") rather than flush ("key:\n- a"). */
  indentSeq: boolean;
}

/** Options every parse of a manifest uses: duplicate keys allowed (the last wins, as kubectl's decoder does), merge keys on. */
export const PARSE_OPTIONS = { uniqueKeys: false, merge: true, keepSourceTokens: false } as const;

/** The layout a file already uses, so new lines look like their neighbours. */
export function detectStyle(text: string): YamlStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let indent = 0;
  let indentSeq: boolean | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = /^( *)(?:- )?[^\s#-][^#]*:\s*(?:#.*)?$/.exec(lines[i]!);
    if (!m) continue;
    const keyCol = m[1]!.length + (lines[i]!.trimStart().startsWith('- ') ? 2 : 0);
    let j = i + 1;
    while (j < lines.length && (lines[j]!.trim() === '' || lines[j]!.trimStart().startsWith('#'))) j++;
    const next = lines[j];
    if (next === undefined) break;
    const col = next.length - next.trimStart().length;
    if (next.trimStart().startsWith('- ')) {
      indentSeq ??= col > keyCol;
    } else if (col > keyCol && indent === 0) indent = col - keyCol;
    if (indent !== 0 && indentSeq !== null) break;
  }
  return { eol, indent: indent || 2, indentSeq: indentSeq ?? true };
}

/** Applies the operations to one YAML document's text; throws InPlaceEditError when one cannot be written. */
export function editYamlDocument(text: string, ops: readonly PatchOperation[], style: YamlStyle = detectStyle(text)): string {
  let out = text;
  for (const op of ops) out = applyOne(out, op, style);
  return out;
}

function segments(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new InPlaceEditError(`not a JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The pair that counts for a key: the last one, as kubectl's decoder keeps the last duplicate. */
function lastPair(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const p = map.items[i] as Pair<Node, Node | null>;
    if (isScalar(p.key) && String(p.key.value) === key) return p;
  }
  return undefined;
}

function child(node: Node | null | undefined, seg: string, where: string): Node {
  if (isAlias(node)) throw new InPlaceEditError(`${where} goes through an alias; change it by hand`);
  if (isMap(node)) {
    const v = lastPair(node, seg)?.value;
    if (v) return v;
  } else if (isSeq(node)) {
    const v = node.items[Number(seg)] as Node | undefined;
    if (/^\d+$/.test(seg) && v) return v;
  }
  throw new InPlaceEditError(`${where} does not exist in the YAML`);
}

function applyOne(text: string, op: PatchOperation, style: YamlStyle): string {
  const doc = parseDocument(text, PARSE_OPTIONS);
  if (doc.errors.length > 0) throw new InPlaceEditError(`the YAML does not parse: ${doc.errors[0]!.message}`);
  const path = segments(op.path);
  if (path.length === 0) throw new InPlaceEditError('a fix that replaces the whole document cannot be written in place');
  let parent = doc.contents as Node | null;
  for (const [i, seg] of path.slice(0, -1).entries()) parent = child(parent, seg, `/${path.slice(0, i + 1).join('/')}`);
  if (isAlias(parent)) throw new InPlaceEditError(`${op.path} goes through an alias; change it by hand`);
  const key = path[path.length - 1]!;
  const e = new Editor(text, style);
  if (op.op === 'remove') {
    if (isMap(parent))
      return e.removePair(parent, key, () => applyOne(text, { op: 'replace', path: `/${path.slice(0, -1).map(escapePointer).join('/')}`, value: {} }, style));
    if (isSeq(parent))
      return e.removeItem(parent, Number(key), () =>
        applyOne(text, { op: 'replace', path: `/${path.slice(0, -1).map(escapePointer).join('/')}`, value: [] }, style),
      );
    throw new InPlaceEditError(`${op.path}: nothing to remove`);
  }
  if (op.op !== 'add' && op.op !== 'replace') throw new InPlaceEditError(`a "${op.op}" fix cannot be written in place`);
  const value = (op as { value?: unknown }).value;
  if (isMap(parent)) {
    const existing = lastPair(parent, key);
    if (existing?.value) return e.replaceValue(existing.value, value, { kind: 'map', map: parent, pair: existing });
    if (existing) return e.replaceEmptyValue(existing, value);
    if (op.op === 'replace') throw new InPlaceEditError(`${op.path} does not exist in the YAML`);
    return e.insertPair(parent, key, value);
  }
  if (isSeq(parent)) {
    if (op.op === 'replace' || (key !== '-' && !/^\d+$/.test(key))) {
      const item = parent.items[Number(key)] as Node | undefined;
      if (!item) throw new InPlaceEditError(`${op.path} does not exist in the YAML`);
      return e.replaceValue(item, value, { kind: 'seq', seq: parent });
    }
    const index = key === '-' ? parent.items.length : Number(key);
    if (index > parent.items.length) throw new InPlaceEditError(`${op.path} is past the end of the list`);
    return e.insertItem(parent, index, value);
  }
  throw new InPlaceEditError(`${op.path}: its parent is not a map or a list`);
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isEmptyCollection(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function isBlockValue(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !isEmptyCollection(v);
}

/** Renders new values: YAML 1.1 quoting, so strings like "yes" or "on" stay strings for kubectl's YAML 1.1 decoder too. */
function render(value: unknown, style: YamlStyle, flow: boolean): string[] {
  const doc = new Document(value, { version: '1.1' });
  const s = doc.toString({
    indent: style.indent,
    indentSeq: style.indentSeq,
    lineWidth: 0,
    flowCollectionPadding: false,
    ...(flow ? { collectionStyle: 'flow' as const } : {}),
  });
  return s.replace(/\n$/, '').split('\n');
}

function inline(value: unknown, style: YamlStyle): string {
  return render(value, style, true).join(' ');
}

type Context = { kind: 'map'; map: YAMLMap; pair: Pair<Node, Node | null> } | { kind: 'seq'; seq: YAMLSeq };

class Editor {
  constructor(
    readonly text: string,
    readonly style: YamlStyle,
  ) {}

  #splice(start: number, end: number, insert: string): string {
    return this.text.slice(0, start) + insert + this.text.slice(end);
  }

  #lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  #column(pos: number): number {
    return pos - this.#lineStart(pos);
  }

  /** Where the line holding `pos` ends (just past its newline); `pos` itself when it already starts a line. */
  #endOfLine(pos: number): number {
    if (pos > 0 && this.text[pos - 1] === '\n') return pos;
    const i = this.text.indexOf('\n', pos);
    return i < 0 ? this.text.length : i + 1;
  }

  /** Lines inserted at `at`, with a line break first when `at` is the end of a last line without one. */
  #insertLines(at: number, lines: string[]): string {
    const eol = this.style.eol;
    const lead = at === this.text.length && at > 0 && !this.text.endsWith('\n') ? eol : '';
    return this.#splice(at, at, lead + lines.map((l) => l + eol).join(''));
  }

  #end(node: Node): number {
    return node.range![1];
  }

  /** The column a block map's keys sit at. */
  #mapColumn(map: YAMLMap): number {
    const first = map.items[0] as Pair<Node, Node | null> | undefined;
    if (!first?.key) throw new InPlaceEditError('an empty block map cannot take a key in place');
    return this.#column(first.key.range![0]);
  }

  /** The dash of a block sequence item. */
  #dash(item: Node): number {
    let i = item.range![0] - 1;
    while (i >= 0 && this.text[i] === ' ') i--;
    if (this.text[i] !== '-') throw new InPlaceEditError('a list item without its dash cannot be edited in place');
    return i;
  }

  /** `key: value` lines at `col`; a block value goes on the lines after, indented one level. */
  #pairLines(key: string, value: unknown, col: number): string[] {
    const pad = ' '.repeat(col);
    const k = inline(key, this.style);
    if (!isBlockValue(value)) return [`${pad}${k}: ${inline(value, this.style)}`];
    const inner = Array.isArray(value) ? (this.style.indentSeq ? this.style.indent : 0) : this.style.indent;
    return [`${pad}${k}:`, ...render(value, this.style, false).map((l) => ' '.repeat(col + inner) + l)];
  }

  /** `- value` lines with the dash at `col`. */
  #itemLines(value: unknown, col: number): string[] {
    const pad = ' '.repeat(col);
    if (!isBlockValue(value)) return [`${pad}- ${inline(value, this.style)}`];
    const [first, ...rest] = render(value, this.style, false);
    return [`${pad}- ${first}`, ...rest.map((l) => `${pad}  ${l}`)];
  }

  insertPair(map: YAMLMap, key: string, value: unknown): string {
    if (map.flow) {
      const close = this.text.lastIndexOf('}', map.range![1] - 1);
      if (close < map.range![0]) throw new InPlaceEditError('cannot find the end of a flow map');
      const last = map.items[map.items.length - 1] as Pair<Node, Node | null> | undefined;
      const quoted = isScalar(last?.key) && last.key.type === 'QUOTE_DOUBLE';
      const k = quoted ? JSON.stringify(key) : inline(key, this.style);
      const entry = `${k}: ${inline(value, this.style)}`;
      if (!last) return this.#splice(close, close, entry);
      const after = this.#end((last.value ?? last.key) as Node);
      return this.#splice(after, after, `, ${entry}`);
    }
    const col = this.#mapColumn(map);
    const last = map.items[map.items.length - 1] as Pair<Node, Node | null>;
    return this.#insertLines(this.#endOfLine(this.#end((last.value ?? last.key) as Node)), this.#pairLines(key, value, col));
  }

  insertItem(seq: YAMLSeq, index: number, value: unknown): string {
    const items = seq.items as Node[];
    if (seq.flow) {
      const text = inline(value, this.style);
      if (items.length === 0) {
        const close = this.text.lastIndexOf(']', seq.range![1] - 1);
        return this.#splice(close, close, text);
      }
      if (index < items.length) {
        const at = items[index]!.range![0];
        return this.#splice(at, at, `${text}, `);
      }
      const after = this.#end(items[items.length - 1]!);
      return this.#splice(after, after, `, ${text}`);
    }
    if (items.length === 0) throw new InPlaceEditError('an empty block list cannot take an item in place');
    const col = this.#column(this.#dash(items[0]!));
    const at = index < items.length ? this.#lineStart(this.#dash(items[index]!)) : this.#endOfLine(this.#end(items[items.length - 1]!));
    if (index < items.length && this.text.slice(this.#lineStart(at), this.#dash(items[index]!)).trim() !== '') {
      throw new InPlaceEditError('a list item that shares its line cannot be edited in place');
    }
    return this.#insertLines(at, this.#itemLines(value, col));
  }

  /** A key written with no value (`key:`): the value goes after the colon. */
  replaceEmptyValue(pair: Pair<Node, Node | null>, value: unknown): string {
    const keyEnd = pair.key.range![1];
    const colon = this.text.indexOf(':', keyEnd);
    const col = this.#column(pair.key.range![0]);
    if (!isBlockValue(value)) return this.#splice(colon + 1, colon + 1, ` ${inline(value, this.style)}`);
    const [, ...rest] = this.#pairLines('k', value, col);
    const eol = this.style.eol;
    return this.#splice(colon + 1, colon + 1, rest.map((l) => eol + l).join(''));
  }

  replaceValue(node: Node, value: unknown, ctx: Context): string {
    const [start, end0] = node.range!;
    // A block collection's or block scalar's range runs through its last line break; keep that break.
    let end = end0;
    const keepsBreak = this.text[end - 1] === '\n';
    if (keepsBreak) end -= this.text[end - 2] === '\r' ? 2 : 1;
    const flowContext = ctx.kind === 'map' ? ctx.map.flow : ctx.seq.flow;
    if (flowContext || !isBlockValue(value)) {
      const replacement = inline(value, this.style);
      if (!flowContext && isCollection(node) && !node.flow) {
        // A block collection becomes a one-line value: it goes back after the key or dash.
        let s = start;
        while (s > 0 && (this.text[s - 1] === ' ' || this.text[s - 1] === '\n' || this.text[s - 1] === '\r')) s--;
        return this.#splice(s, end, ` ${replacement}`);
      }
      return this.#splice(start, end, replacement);
    }
    if (isCollection(node) && !node.flow && isMap(node) === !Array.isArray(value)) {
      // Block for block of the same kind: the first line where the old one began, the rest at its column.
      const col = this.#column(start);
      const lines = render(value, this.style, false);
      return this.#splice(start, end, lines.map((l, i) => (i === 0 ? l : ' '.repeat(col) + l)).join(this.style.eol));
    }
    if (ctx.kind === 'seq') {
      const col = this.#column(this.#dash(node));
      const [first, ...rest] = this.#itemLines(value, col);
      return this.#splice(start, end, [first!.slice(col + 2), ...rest].join(this.style.eol));
    }
    // A scalar (or flow value) under a block key becomes a block value on the lines after the key.
    let s = start;
    while (s > 0 && (this.text[s - 1] === ' ' || this.text[s - 1] === '\t')) s--;
    const [, ...rest] = this.#pairLines('k', value, this.#column(ctx.pair.key.range![0]));
    return this.#splice(s, end, rest.map((l) => this.style.eol + l).join(''));
  }

  removePair(map: YAMLMap, key: string, emptied: () => string): string {
    const pairs = (map.items as Pair<Node, Node | null>[]).filter((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pairs.length === 0) throw new InPlaceEditError(`the key ${JSON.stringify(key)} is not in the YAML`);
    if (pairs.length === map.items.length) return emptied();
    if (map.flow) {
      // Every occurrence goes (a duplicate left behind would come back to life).
      let out = this.text;
      for (const p of [...pairs].reverse()) out = removeFlowEntry(out, map.items as Pair<Node, Node | null>[], map.items.indexOf(p as never));
      return out;
    }
    let out = this.text;
    for (const p of [...pairs].reverse()) {
      const s = this.#lineStart(p.key.range![0]);
      if (this.text.slice(s, p.key.range![0]).trim() !== '')
        throw new InPlaceEditError(`the key ${JSON.stringify(key)} shares its line with a list dash; remove it by hand`);
      const e = this.#endOfLine(this.#end((p.value ?? p.key) as Node));
      out = out.slice(0, s) + out.slice(e);
    }
    return out;
  }

  removeItem(seq: YAMLSeq, index: number, emptied: () => string): string {
    const items = seq.items as Node[];
    if (!items[index]) throw new InPlaceEditError(`item ${index} is not in the list`);
    if (items.length === 1) return emptied();
    if (seq.flow) {
      const item = items[index]!;
      if (index < items.length - 1) return this.#splice(item.range![0], items[index + 1]!.range![0], '');
      return this.#splice(this.#end(items[index - 1]!), this.#end(item), '');
    }
    const dash = this.#dash(items[index]!);
    const s = this.#lineStart(dash);
    if (this.text.slice(s, dash).trim() !== '') throw new InPlaceEditError('a list item that shares its line cannot be removed in place');
    return this.#splice(s, this.#endOfLine(this.#end(items[index]!)), '');
  }
}

function removeFlowEntry(text: string, pairs: Pair<Node, Node | null>[], i: number): string {
  const start = pairs[i]!.key.range![0];
  if (i < pairs.length - 1) return text.slice(0, start) + text.slice(pairs[i + 1]!.key.range![0]);
  const prev = pairs[i - 1]!;
  const prevEnd = (prev.value ?? prev.key).range![1];
  const end = (pairs[i]!.value ?? pairs[i]!.key).range![1];
  return text.slice(0, prevEnd) + text.slice(end);
}
