// Writes RFC 6902 operations into JSON source text as splices: a new property
// or item is inserted after its last sibling on lines of its own, indented
// like that sibling; a replaced value is rewritten where it stands. Offsets
// come from jsonc-parser's parse tree. Its own `modify` formatting is not
// used: it reformats the whole line before an insertion (an inline array on
// it would be exploded), and untouched lines must keep their bytes.

import { applyEdits, findNodeAtLocation, type JSONPath, modify, type Node, parseTree } from 'jsonc-parser';
import type { PatchOperation } from '../contract/index.js';
import { InPlaceEditError } from './edit-yaml.js';

export interface JsonStyle {
  eol: '\n' | '\r\n';
  /** One level of indentation ("    ", "\t"); null for a file written on one line. */
  unit: string | null;
  /** ": " or ":" between a key and its value, as the file writes it. */
  colon: string;
}

/** The indentation and line ending a JSON file uses. */
export function jsonStyle(text: string): JsonStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const colon = /"\s*:\s/.test(text) || !/"\s*:/.test(text) ? ': ' : ':';
  if (!/\n/.test(text.trim())) return { eol, unit: null, colon };
  const indented = text.split(/\r?\n/).find((l) => /^[ \t]+\S/.test(l));
  const unit = indented ? indented.slice(0, indented.length - indented.trimStart().length) : '  ';
  return { eol, unit: unit.startsWith('\t') ? '\t' : unit, colon };
}

/** Applies the operations to JSON text; throws InPlaceEditError when one cannot be written. */
export function editJson(text: string, ops: readonly PatchOperation[]): string {
  const style = jsonStyle(text);
  let out = text;
  for (const op of ops) out = applyOne(out, op, style);
  return out;
}

function applyOne(text: string, op: PatchOperation, style: JsonStyle): string {
  const segs =
    op.path === ''
      ? []
      : op.path
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segs.length === 0) throw new InPlaceEditError('a fix that replaces the whole document cannot be written in place');
  const root = parseTree(text);
  if (!root) throw new InPlaceEditError('the JSON does not parse');
  // jsonc-parser's paths hold numbers for array indexes and strings for keys: resolve which is which.
  const path: JSONPath = [];
  let parent: Node | undefined = root;
  for (const seg of segs.slice(0, -1)) {
    path.push(parent?.type === 'array' ? Number(seg) : seg);
    parent = findNodeAtLocation(root, path);
    if (!parent) throw new InPlaceEditError(`${op.path}: its parent does not exist in the JSON`);
  }
  const last = segs[segs.length - 1]!;
  if (op.op === 'remove') {
    return applyEdits(text, modify(text, [...path, parent.type === 'array' ? Number(last) : last], undefined, {}));
  }
  if (op.op !== 'add' && op.op !== 'replace') throw new InPlaceEditError(`a "${op.op}" fix cannot be written in place`);
  const value = (op as { value?: unknown }).value;
  const editor = new Splicer(text, style);
  if (parent.type === 'object') {
    // Duplicate keys: the last one is the one a JSON decoder keeps.
    const same = parent.children?.filter((p) => p.children?.[0]?.value === last) ?? [];
    const target = same[same.length - 1]?.children?.[1];
    if (target) return editor.replace(target, value);
    if (op.op === 'replace') throw new InPlaceEditError(`${op.path} does not exist in the JSON`);
    return editor.insert(parent, `${JSON.stringify(last)}${style.colon}`, value);
  }
  if (parent.type === 'array') {
    const items = parent.children ?? [];
    if (op.op === 'replace') {
      const item = items[Number(last)];
      if (!item) throw new InPlaceEditError(`${op.path} does not exist in the JSON`);
      return editor.replace(item, value);
    }
    const index = last === '-' ? items.length : Number(last);
    if (!Number.isInteger(index) || index > items.length) throw new InPlaceEditError(`${op.path} is past the end of the list`);
    if (index < items.length) return editor.insertBefore(items[index]!, value);
    return editor.insert(parent, '', value);
  }
  throw new InPlaceEditError(`${op.path}: its parent is not an object or an array`);
}

class Splicer {
  constructor(
    readonly text: string,
    readonly style: JsonStyle,
  ) {}

  #indentOf(offset: number): string {
    const start = this.text.lastIndexOf('\n', offset - 1) + 1;
    return /^[ \t]*/.exec(this.text.slice(start, offset))![0];
  }

  /** Whether the node starts its line (a multi-line layout), as opposed to sitting inline. */
  #startsLine(node: Node): boolean {
    const start = this.text.lastIndexOf('\n', node.offset - 1) + 1;
    return this.text.slice(start, node.offset).trim() === '';
  }

  #render(value: unknown, indent: string, multiline: boolean): string {
    if (!multiline || this.style.unit === null) return JSON.stringify(value);
    return JSON.stringify(value, null, this.style.unit)
      .split('\n')
      .join(this.style.eol + indent);
  }

  replace(node: Node, value: unknown): string {
    const multiline = this.style.unit !== null;
    const text = this.#render(value, this.#indentOf(node.offset), multiline);
    return this.text.slice(0, node.offset) + text + this.text.slice(node.offset + node.length);
  }

  /** Appends `prefix + value` as the last member of an object or array. */
  insert(container: Node, prefix: string, value: unknown): string {
    const members = container.children ?? [];
    const lastMember = members[members.length - 1];
    if (lastMember) {
      const multiline = this.style.unit !== null && this.#startsLine(lastMember);
      const indent = this.#indentOf(lastMember.offset);
      const end = lastMember.offset + lastMember.length;
      const sep = multiline ? `,${this.style.eol}${indent}` : this.#inlineSeparator(members);
      return this.text.slice(0, end) + sep + prefix + this.#render(value, indent, multiline) + this.text.slice(end);
    }
    // An empty {} or []: the member goes inside, on its own line when the file is indented.
    const close = container.offset + container.length - 1;
    if (this.style.unit === null) return this.text.slice(0, close) + prefix + JSON.stringify(value) + this.text.slice(close);
    const outer = this.#indentOf(container.offset);
    const indent = outer + this.style.unit;
    const body = `${this.style.eol}${indent}${prefix}${this.#render(value, indent, true)}${this.style.eol}${outer}`;
    return this.text.slice(0, container.offset + 1) + body + this.text.slice(close);
  }

  /** Inserts an array item before `item`, in the same layout. */
  insertBefore(item: Node, value: unknown): string {
    const multiline = this.style.unit !== null && this.#startsLine(item);
    const indent = this.#indentOf(item.offset);
    const text = multiline ? `${this.#render(value, indent, true)},${this.style.eol}${indent}` : `${JSON.stringify(value)}, `;
    return this.text.slice(0, item.offset) + text + this.text.slice(item.offset);
  }

  /** ", " or "," as the members already written on one line are separated. */
  #inlineSeparator(members: Node[]): string {
    if (members.length < 2) return this.style.unit === null ? ',' : ', ';
    const a = members[members.length - 2]!;
    const between = this.text.slice(a.offset + a.length, members[members.length - 1]!.offset);
    return between.includes(' ') ? ', ' : ',';
  }
}
