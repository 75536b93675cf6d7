import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { PatchOperation } from '../contract/index.js';
import { detectStyle, editYamlDocument, InPlaceEditError, PARSE_OPTIONS } from './edit-yaml.js';

/** Edits, then checks the result reads back as the patched object. */
function edit(text: string, ops: PatchOperation[]): string {
  const out = editYamlDocument(text, ops);
  const expected = fastJsonPatch.applyPatch(parseDocument(text, PARSE_OPTIONS).toJS(), structuredClone(ops) as never, true, false).newDocument;
  expect(parseDocument(out, PARSE_OPTIONS).toJS()).toEqual(expected);
  return out;
}

const add = (path: string, value: unknown): PatchOperation => ({ op: 'add', path, value }) as PatchOperation;

describe('YAML edited in place', () => {
  it('adds a block map after the last key, at its indentation, keeping comments and blank lines', () => {
    const text = 'spec:   # the spec\n  containers:\n  - name: a   # first\n    image: x\n\n  # volumes later\nstatus: {}\n';
    expect(edit(text, [add('/spec/containers/0/securityContext', { runAsNonRoot: true, capabilities: { drop: ['ALL'] } })])).toBe(
      'spec:   # the spec\n  containers:\n  - name: a   # first\n    image: x\n    securityContext:\n      runAsNonRoot: true\n      capabilities:\n        drop:\n        - ALL\n\n  # volumes later\nstatus: {}\n',
    );
  });

  it('follows the file: 4-space indents and indented sequences', () => {
    const text = 'spec:\n    containers:\n        - name: a\n          image: x\n';
    expect(detectStyle(text)).toEqual({ eol: '\n', indent: 4, indentSeq: true });
    expect(edit(text, [add('/spec/securityContext', { seccompProfile: { type: 'RuntimeDefault' }, supplementalGroups: [1] })])).toBe(
      'spec:\n    containers:\n        - name: a\n          image: x\n    securityContext:\n        seccompProfile:\n            type: RuntimeDefault\n        supplementalGroups:\n            - 1\n',
    );
  });

  it('keeps CRLF line endings, also on a last line without a break', () => {
    const text = 'a:\r\n  b: 1\r\n  c: 2';
    expect(edit(text, [add('/a/d', { e: true })])).toBe('a:\r\n  b: 1\r\n  c: 2\r\n  d:\r\n    e: true\r\n');
  });

  it('writes into flow maps and flow sequences without reflowing them', () => {
    const text = 'metadata: {name: web, labels: {app: web}}\nports: [80, 443]\nempty: {}\n';
    expect(edit(text, [add('/metadata/labels/tier', 'front'), add('/ports/-', 8080), add('/ports/0', 22), add('/empty/x', 'v')])).toBe(
      'metadata: {name: web, labels: {app: web, tier: front}}\nports: [22, 80, 443, 8080]\nempty: {x: v}\n',
    );
  });

  it('quotes strings a YAML 1.1 reader would take for something else', () => {
    expect(edit('a: 1\n', [add('/b', 'yes'), add('/c', '0755'), add('/d', 'true'), add('/e', 'y')])).toBe('a: 1\nb: "yes"\nc: "0755"\nd: "true"\ne: "y"\n');
  });

  it('replaces a scalar where it stands, and a value with a block, and a block with a scalar', () => {
    const text = 'a: 1 # keep\nb: null\nc:\n  x: 1\n  y: 2\nd: end\n';
    expect(edit(text, [{ op: 'replace', path: '/a', value: 2 }])).toBe('a: 2 # keep\nb: null\nc:\n  x: 1\n  y: 2\nd: end\n');
    expect(edit(text, [{ op: 'replace', path: '/b', value: { k: 'v' } }])).toBe('a: 1 # keep\nb:\n  k: v\nc:\n  x: 1\n  y: 2\nd: end\n');
    expect(edit(text, [{ op: 'replace', path: '/c', value: false }])).toBe('a: 1 # keep\nb: null\nc: false\nd: end\n');
    expect(edit(text, [{ op: 'replace', path: '/c', value: { z: 3 } }])).toBe('a: 1 # keep\nb: null\nc:\n  z: 3\nd: end\n');
  });

  it('fills a key written without a value', () => {
    expect(edit('a:\nb: 2\n', [add('/a', { c: 1 })])).toBe('a:\n  c: 1\nb: 2\n');
  });

  it('removes keys and items, leaving {} or [] where nothing is left', () => {
    const text = 'a:\n  x: 1 # gone\n  y: 2\nl:\n- 1\n- 2\none: {k: v}\n';
    expect(edit(text, [{ op: 'remove', path: '/a/x' }])).toBe('a:\n  y: 2\nl:\n- 1\n- 2\none: {k: v}\n');
    expect(edit(text, [{ op: 'remove', path: '/l/0' }])).toBe('a:\n  x: 1 # gone\n  y: 2\nl:\n- 2\none: {k: v}\n');
    expect(edit(text, [{ op: 'remove', path: '/one/k' }])).toBe('a:\n  x: 1 # gone\n  y: 2\nl:\n- 1\n- 2\none: {}\n');
  });

  it('edits the last of duplicate keys (the one kubectl keeps), and removes all of them', () => {
    const text = 'spec:\n  securityContext:\n    runAsUser: 1\n  securityContext:\n    fsGroup: 2\n';
    expect(edit(text, [add('/spec/securityContext/runAsNonRoot', true)])).toBe(
      'spec:\n  securityContext:\n    runAsUser: 1\n  securityContext:\n    fsGroup: 2\n    runAsNonRoot: true\n',
    );
    expect(edit('a: 1\nb: 2\na: 3\n', [{ op: 'remove', path: '/a' }])).toBe('b: 2\n');
  });

  it('inserts list items of maps at the dash column', () => {
    const text = 'containers:\n  - name: a\n    image: x\n';
    expect(edit(text, [add('/containers/-', { name: 'b', image: 'img' })])).toBe('containers:\n  - name: a\n    image: x\n  - name: b\n    image: img\n');
  });

  it('refuses what it cannot write in place', () => {
    expect(() => editYamlDocument('a: &x {b: 1}\nc: *x\n', [add('/c/d', 1)])).toThrow(InPlaceEditError);
    expect(() => editYamlDocument('a: 1\n', [{ op: 'move', from: '/a', path: '/b' } as PatchOperation])).toThrow('"move" fix cannot be written in place');
    expect(() => editYamlDocument('a: 1\n', [add('/x/y', 1)])).toThrow('/x does not exist');
  });
});
