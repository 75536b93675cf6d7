// Credentials found through the structure of a document: an env entry whose
// name is a credential (`{name: DB_PASSWORD, value: …}`), every value of a
// Secret's data and stringData (and its last-applied annotation, which
// repeats them), an Azure key listing (`{keyName, value}`), and any string
// under a credential-named key. The rules run over a small tree (`SNode`)
// that three sources build: JSON found in text (with spans), YAML-like text
// read line by line (with spans), and JavaScript values (with paths).

import type { FindingKind } from './findings.js';
import { classifyKey, isPlaceholder } from './keys.js';
import { blockScalarSpan } from './lines.js';

export type SNode = SMap | SSeq | SStr | { t: 'other' };
export interface SMap {
  t: 'map';
  entries: [string, SNode][];
}
export interface SSeq {
  t: 'seq';
  items: SNode[];
}
export interface SStr {
  t: 'str';
  value: string;
  /** Where the string's characters are in the source text, when it came from text. */
  span?: [number, number];
}

export interface StructuredHit {
  node: SStr;
  path: (string | number)[];
  kind: FindingKind;
  rule: string;
  description: string;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Deeper than this is not walked (and a caller treats it as unscannable). */
export const MAX_DEPTH = 512;

/** Applies the structural rules to a tree; `hit` receives every string judged a secret. */
export function structuredSecrets(root: SNode, hit: (h: StructuredHit) => void): void {
  const visit = (node: SNode, path: (string | number)[], depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (node.t === 'seq') {
      node.items.forEach((item, i) => {
        visit(item, [...path, i], depth + 1);
      });
      return;
    }
    if (node.t !== 'map') return;
    const get = (k: string) => node.entries.find(([key]) => key === k)?.[1];
    const str = (k: string) => {
      const v = get(k);
      return v?.t === 'str' ? v : undefined;
    };
    const kind = str('kind')?.value;
    if (kind === 'Secret') {
      for (const field of ['data', 'stringData']) {
        const values = get(field);
        if (values?.t !== 'map') continue;
        for (const [k, v] of values.entries) {
          if (v.t === 'str' && v.value !== '')
            hit({ node: v, path: [...path, field, k], kind: 'secret-value', rule: 'belay/secret-data', description: `the value of a Secret's ${field}.${k}` });
        }
      }
      const annotations = (() => {
        const md = get('metadata');
        if (md?.t !== 'map') return undefined;
        return md.entries.find(([k]) => k === 'annotations')?.[1];
      })();
      if (annotations?.t === 'map') {
        for (const [k, v] of annotations.entries) {
          if (k === LAST_APPLIED && v.t === 'str')
            hit({
              node: v,
              path: [...path, 'metadata', 'annotations', k],
              kind: 'secret-value',
              rule: 'belay/secret-last-applied',
              description: "a Secret's last-applied configuration (it repeats the values)",
            });
        }
      }
    }
    // An env entry: {name: DB_PASSWORD, value: …}; an Azure key listing: {keyName: key1, value: …}.
    const name = str('name') ?? str('Name');
    const value = str('value') ?? str('Value');
    if (value && !isPlaceholder(value.value)) {
      const cls = name ? classifyKey(name.value) : null;
      if (cls) {
        hit({
          node: value,
          path: [...path, get('value') ? 'value' : 'Value'],
          kind: cls,
          rule: 'belay/env-value',
          description: `the value of ${JSON.stringify(name!.value)}, ${cls === 'password' ? 'a password' : 'a credential'}`,
        });
      } else if (str('keyName') && get('permissions')) {
        hit({ node: value, path: [...path, 'value'], kind: 'cloud-key', rule: 'belay/azure-key-listing', description: 'an Azure storage account key' });
      }
    }
    for (const [k, v] of node.entries) {
      if (v.t === 'str') {
        const cls = classifyKey(k);
        if (cls && keyedValueAcceptable(v.value))
          hit({
            node: v,
            path: [...path, k],
            kind: cls,
            rule: 'belay/keyed-value',
            description: `the value of "${k.length > 40 ? `${k.slice(0, 40)}…` : k}", ${cls === 'password' ? 'a password' : 'a credential'}`,
          });
      } else {
        visit(v, [...path, k], depth + 1);
      }
    }
  };
  visit(root, [], 0);
}

function keyedValueAcceptable(value: string): boolean {
  const v = value.trim().replace(/^(?:Bearer|Basic|Token|Digest|ApiKey)[ \t]+/i, '');
  if (v === '' || isPlaceholder(v)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return false;
  if (/^\d{1,5}$/.test(v)) return false;
  if (v.split(/\s+/).length >= 3) return false;
  return true;
}

/** A JavaScript value as a tree; null when it nests deeper than MAX_DEPTH. */
export function fromJs(value: unknown, depth = 0): SNode | null {
  if (depth > MAX_DEPTH) return null;
  if (typeof value === 'string') return { t: 'str', value };
  if (Array.isArray(value)) {
    const items: SNode[] = [];
    for (const v of value) {
      const n = fromJs(v, depth + 1);
      if (n === null) return null;
      items.push(n);
    }
    return { t: 'seq', items };
  }
  if (typeof value === 'object' && value !== null) {
    const entries: [string, SNode][] = [];
    for (const [k, v] of Object.entries(value)) {
      const n = fromJs(v, depth + 1);
      if (n === null) return null;
      entries.push([k, n]);
    }
    return { t: 'map', entries };
  }
  return { t: 'other' };
}

/**
 * Parses JSON starting at `from` (which must be '{' or '['), keeping the raw
 * span of every string. Tolerant of nothing: returns null at the first
 * error, with `end` where it stopped so a caller can bound retries. Iterative,
 * so depth costs no stack.
 */
export function parseJsonAt(text: string, from: number, maxDepth = MAX_DEPTH): { node: SNode; end: number } | { node: null; end: number } {
  type Frame = { node: SMap | SSeq; key: string | null; expectKey: boolean };
  const stack: Frame[] = [];
  let i = from;
  let root: SNode | null = null;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const readString = (): SStr | null => {
    const start = i + 1;
    let j = start;
    let escaped = false;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c === 10) return null;
      j++;
    }
    if (j >= text.length) return null;
    i = j + 1;
    const raw = text.slice(start, j);
    let value = raw;
    if (escaped) {
      try {
        value = JSON.parse(`"${raw}"`) as string;
      } catch {
        return null;
      }
    }
    return { t: 'str', value, span: [start, j] };
  };
  const attach = (n: SNode): boolean => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = n;
      return true;
    }
    if (top.node.t === 'seq') top.node.items.push(n);
    else {
      if (top.key === null) return false;
      top.node.entries.push([top.key, n]);
      top.key = null;
    }
    return true;
  };
  const fail = () => ({ node: null, end: i }) as const;
  while (i < text.length) {
    ws();
    const top = stack[stack.length - 1];
    const c = text[i];
    if (c === undefined) return fail();
    if (top?.node.t === 'map' && top.expectKey) {
      if (c === '}' && top.node.entries.length === 0) {
        stack.pop();
        i++;
        if (stack.length === 0) return { node: root!, end: i };
        afterValue();
        continue;
      }
      if (c !== '"') return fail();
      const k = readString();
      if (!k) return fail();
      ws();
      if (text[i] !== ':') return fail();
      i++;
      top.key = k.value;
      top.expectKey = false;
      continue;
    }
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) return fail();
      const node: SMap | SSeq = c === '{' ? { t: 'map', entries: [] } : { t: 'seq', items: [] };
      if (!attach(node)) return fail();
      stack.push({ node, key: null, expectKey: c === '{' });
      i++;
      continue;
    }
    if (c === ']' && top?.node.t === 'seq' && top.node.items.length === 0) {
      stack.pop();
      i++;
      if (stack.length === 0) return { node: root!, end: i };
      afterValue();
      continue;
    }
    if (stack.length === 0) return fail();
    if (c === '"') {
      const s = readString();
      if (!s || !attach(s)) return fail();
    } else {
      const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 40));
      if (!m) return fail();
      i += m[0].length;
      if (!attach({ t: 'other' })) return fail();
    }
    if (!afterValue()) return fail();
    if (stack.length === 0) return { node: root!, end: i };
  }
  return fail();

  // After a value: a comma, or the close of the container (possibly several).
  function afterValue(): boolean {
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (!top) return true;
      const c = text[i];
      if (c === ',') {
        i++;
        if (top.node.t === 'map') top.expectKey = true;
        return true;
      }
      if ((c === '}' && top.node.t === 'map') || (c === ']' && top.node.t === 'seq')) {
        stack.pop();
        i++;
        if (stack.length === 0) return true;
        continue;
      }
      return false;
    }
  }
}

/**
 * JSON documents inside text: the whole text when it is JSON, and every JSON
 * object or array that starts a line (pretty-printed output after a prompt's
 * prose, JSON log lines). Failed attempts are bounded to a few passes over
 * the text, so hostile input cannot make this quadratic.
 */
export function jsonInText(text: string, each: (root: SNode) => void, shouldStop: () => boolean): void {
  let budget = text.length * 4 + 4096;
  let pos = 0;
  while (pos < text.length && budget > 0) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 ? text.length : nl;
    let j = pos;
    while (j < lineEnd && (text[j] === ' ' || text[j] === '\t')) j++;
    if (text[j] === '{' || text[j] === '[') {
      const r = parseJsonAt(text, j);
      budget -= Math.max(1, r.end - j);
      if (r.node) {
        each(r.node);
        pos = r.end;
        if (shouldStop()) return;
        continue;
      }
    }
    pos = lineEnd + 1;
  }
}

/**
 * Reads YAML-like text (manifests, kubeconfigs, helm values, describe
 * output, or YAML pasted into a prompt) line by line into a tree of block
 * mappings and sequences, keeping each scalar's span. Flow collections and
 * anchors are kept as plain strings; nothing here fails, so text that is only
 * partly YAML still yields the parts that are.
 */
export function yamlLines(text: string, each: (root: SNode) => void, shouldStop: () => boolean): void {
  type Frame = { indent: number; node: SMap | SSeq; pendingKey: string | null };
  let stack: Frame[] = [];
  let root: SMap | SSeq | null = null;
  const flush = () => {
    if (root) each(root);
    root = null;
    stack = [];
  };
  let pos = 0;
  while (pos <= text.length) {
    if (shouldStop()) return;
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    const line = text.slice(pos, end);
    const lineStart = pos;
    pos = end + 1;
    if (/^(?:---|\.\.\.)\s*$/.test(line)) {
      flush();
      if (nl === -1) break;
      continue;
    }
    const m = /^( *)((?:- +)*)(?:("[^"\n]{1,200}"|'[^'\n]{1,200}'|[^\s#'"{[-][^:\n]{0,200}?):(?:[ \t]+|$))?/.exec(line);
    const indent = m![1]!.length;
    const dashes = m![2]!;
    const key = m![3];
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      if (nl === -1) break;
      continue;
    }
    if (!key && !dashes) {
      // Not a key line: prose or a continuation. Prose at column 0 ends the document.
      if (indent === 0 && stack.length > 0 && !/^[|>]/.test(line)) flush();
      if (nl === -1) break;
      continue;
    }
    let col = indent;
    while (stack.length > 0 && stack[stack.length - 1]!.indent > col) stack.pop();
    const items = dashes.match(/- +/g) ?? [];
    items.forEach((d, n) => {
      let top = stack[stack.length - 1];
      if (!top || top.indent !== col || top.node.t !== 'seq') {
        const seq: SSeq = { t: 'seq', items: [] };
        attachTo(stack, seq, () => (root = seq));
        stack.push({ indent: col, node: seq, pendingKey: null });
        top = stack[stack.length - 1]!;
      }
      col += d.length;
      if (!key && n === items.length - 1) {
        // "- value": a scalar item.
        if (line.slice(col).trim() !== '') (top.node as SSeq).items.push(scalar(text, lineStart + col, lineStart + line.length));
      } else {
        const map: SMap = { t: 'map', entries: [] };
        (top.node as SSeq).items.push(map);
        stack.push({ indent: col, node: map, pendingKey: null });
      }
    });
    if (!key) {
      if (nl === -1) break;
      continue;
    }
    while (
      stack.length > 0 &&
      (stack[stack.length - 1]!.indent > col || (stack[stack.length - 1]!.indent === col && stack[stack.length - 1]!.node.t === 'seq'))
    )
      stack.pop();
    let top = stack[stack.length - 1];
    if (top?.node.t !== 'map' || top.indent !== col) {
      const map: SMap = { t: 'map', entries: [] };
      attachTo(stack, map, () => (root = map));
      stack.push({ indent: col, node: map, pendingKey: null });
      top = stack[stack.length - 1]!;
    }
    const name = key.replace(/^["']|["']$/g, '');
    const valueStart = lineStart + m![0].length;
    const rest = text.slice(valueStart, lineStart + line.length);
    if (/^[|>][-+]?\d?[ \t]*(?:#.*)?$/.test(rest)) {
      // A block scalar: the following lines indented past the key.
      const span = blockScalarSpan(text, pos, col);
      if (span !== null) {
        (top.node as SMap).entries.push([name, { t: 'str', value: text.slice(span[0], span[1]), span }]);
        pos = span[1] + 1;
      }
    } else if (rest.trim() === '' || /^&\S+\s*$/.test(rest)) {
      (top as Frame).pendingKey = name;
    } else {
      (top.node as SMap).entries.push([name, scalar(text, valueStart, lineStart + line.length)]);
    }
    if (nl === -1) break;
  }
  flush();
}

/** Attaches a new container under the pending key of the innermost mapping (or as the root). */
function attachTo(stack: { node: SMap | SSeq; pendingKey: string | null }[], node: SMap | SSeq, asRoot: () => void): void {
  const top = stack[stack.length - 1];
  if (!top) {
    asRoot();
    return;
  }
  if (top.node.t === 'map') {
    top.node.entries.push([top.pendingKey ?? '', node]);
    top.pendingKey = null;
  } else {
    top.node.items.push(node);
  }
}

/** A one-line scalar: quotes removed from the span, a trailing comment dropped. */
function scalar(text: string, start: number, end: number): SStr {
  let s = start;
  let e = end;
  while (e > s && /[ \t\r]/.test(text[e - 1]!)) e--;
  const first = text[s];
  if ((first === '"' || first === "'") && text[e - 1] === first && e - s >= 2) {
    s++;
    e--;
  } else {
    const comment = text.slice(s, e).search(/[ \t]#/);
    if (comment !== -1) e = s + comment;
    while (e > s && /[ \t]/.test(text[e - 1]!)) e--;
  }
  return { t: 'str', value: text.slice(s, e), span: [s, e] };
}
