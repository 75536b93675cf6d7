// A tool result as text (JSON or YAML, one or more documents) or as a JSON
// value: parsed once, edited by JSON pointer, and written back in the format it
// came in. YAML is edited through its document model, so comments and layout
// survive.

import { type Document, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { BelayError } from '../errors.js';
import { parsePointer } from './pointer.js';

export type ResultFormat = 'json' | 'yaml';

export interface ResultDocument {
  readonly format: ResultFormat;
  /** The parsed value: a JSON value, or for several YAML documents an array of them. */
  readonly value: unknown;
  /** Replaces the value at `pointer`; false when nothing is there. */
  replace(pointer: string, replacement: string): boolean;
  /** The result in its original shape: text for text, a JSON value for a value. */
  output(): unknown;
}

/** Aliases a YAML result may use; far fewer than a "billion laughs" needs. */
const MAX_ALIASES = 100;

export function fromValue(value: unknown): ResultDocument {
  let current = structuredClone(value);
  return {
    format: 'json',
    get value() {
      return current;
    },
    replace(pointer, replacement) {
      const r = setAt(current, parsePointer(pointer), replacement);
      if (r.root !== undefined) current = r.root;
      return r.ok;
    },
    output: () => current,
  };
}

export function fromText(text: string, format?: ResultFormat): ResultDocument {
  const chosen = format ?? (/^\s*[[{]/.test(text) ? 'json' : 'yaml');
  if (chosen === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (format === 'json') throw new BelayError('bad_request', `the tool result is not valid JSON: ${(err as Error).message}`);
      return fromText(text, 'yaml');
    }
    const doc = fromValue(value);
    const indent = /^\s*[[{]\s*\n(\s+)/.exec(text)?.[1]?.length ?? 0;
    let changed = false;
    return {
      format: 'json',
      get value() {
        return doc.value;
      },
      replace(pointer, replacement) {
        const ok = doc.replace(pointer, replacement);
        changed ||= ok;
        return ok;
      },
      // Unchanged text is returned byte for byte.
      output: () => (changed ? JSON.stringify(doc.value, null, indent) : text),
    };
  }
  return yamlDocument(text);
}

function yamlDocument(text: string): ResultDocument {
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false }) as Document.Parsed[];
  } catch (err) {
    throw new BelayError('bad_request', `the tool result is not valid YAML: ${(err as Error).message}`);
  }
  if (!Array.isArray(docs)) docs = [];
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) throw new BelayError('bad_request', `the tool result is not valid YAML: ${broken.errors[0]!.message.split('\n')[0]}`);
  const many = docs.length !== 1;
  let changed = false;
  const toJs = () => docs.map((d) => d.toJS({ maxAliasCount: MAX_ALIASES }) as unknown);
  let value: unknown;
  try {
    value = many ? toJs() : toJs()[0];
  } catch (err) {
    throw new BelayError('bad_request', `the tool result's YAML cannot be read: ${(err as Error).message}`);
  }
  return {
    format: 'yaml',
    get value() {
      return value;
    },
    replace(pointer, replacement) {
      const segments = parsePointer(pointer);
      const [docIndex, path] = many ? [Number(segments[0]), segments.slice(1)] : [0, segments];
      const doc = docs[docIndex];
      if (!doc || segments.length === 0 || !Number.isInteger(docIndex)) return false;
      const keyPath = yamlPath(doc, path);
      if (!keyPath) return false;
      doc.setIn(keyPath, replacement);
      changed = true;
      // Keep the plain value in step, so later pointers see the same data.
      setAt(value, segments, replacement);
      return true;
    },
    output: () => (!changed ? text : many ? docs.map((d) => d.toString()).join('') : docs[0]!.toString()),
  };
}

/** Resolves pointer segments to the keys the YAML model uses (numbers for sequences). */
function yamlPath(doc: Document.Parsed, segments: readonly string[]): unknown[] | null {
  const out: unknown[] = [];
  let node: unknown = doc.contents;
  for (const seg of segments) {
    if (isSeq(node)) {
      const i = arrayIndex(seg, node.items.length);
      if (i === null) return null;
      out.push(i);
      node = node.items[i];
    } else if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) return null;
      out.push(pair.key);
      node = pair.value;
    } else {
      return null;
    }
  }
  return out.length > 0 ? out : null;
}

function setAt(root: unknown, segments: readonly string[], replacement: unknown): { ok: boolean; root?: unknown } {
  if (segments.length === 0) return { ok: true, root: replacement };
  let node: unknown = root;
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      const idx = arrayIndex(seg, node.length);
      if (idx === null) return { ok: false };
      if (last) node[idx] = replacement;
      else node = node[idx];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, seg)) {
      if (last) (node as Record<string, unknown>)[seg] = replacement;
      else node = (node as Record<string, unknown>)[seg];
    } else {
      return { ok: false };
    }
  }
  return { ok: true };
}

function arrayIndex(seg: string, length: number): number | null {
  if (!/^(0|[1-9]\d*)$/.test(seg)) return null;
  const i = Number(seg);
  return i < length ? i : null;
}
