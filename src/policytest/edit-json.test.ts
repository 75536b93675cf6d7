import { describe, expect, it } from 'vitest';
import type { PatchOperation } from '../contract/index.js';
import { editJson, jsonStyle } from './edit-json.js';

const add = (path: string, value: unknown): PatchOperation => ({ op: 'add', path, value }) as PatchOperation;

describe('JSON edited in place', () => {
  it('keeps the file’s indentation and line endings', () => {
    const text =
      '{\r\n    "kind": "Pod",\r\n    "spec": {\r\n        "containers": [\r\n            {"name": "a", "image": "x"}\r\n        ]\r\n    }\r\n}\r\n';
    expect(jsonStyle(text)).toEqual({ unit: '    ', eol: '\r\n', colon: ': ' });
    const out = editJson(text, [add('/spec/securityContext', { runAsNonRoot: true })]);
    expect(out).toBe(
      '{\r\n    "kind": "Pod",\r\n    "spec": {\r\n        "containers": [\r\n            {"name": "a", "image": "x"}\r\n        ],\r\n        "securityContext": {\r\n            "runAsNonRoot": true\r\n        }\r\n    }\r\n}\r\n',
    );
  });

  it('keeps a one-line file on one line; appends to arrays; removes', () => {
    expect(editJson('{"a":[1],"b":2}', [add('/a/-', 3), { op: 'remove', path: '/b' }])).toBe('{"a":[1,3]}');
  });

  it('leaves a sibling written inline alone, and appends array items in the array’s layout', () => {
    const text = '{\n  "c": {\n    "command": ["a", "b"]\n  },\n  "l": [\n    1\n  ]\n}\n';
    expect(editJson(text, [add('/c/x', { y: [1] }), add('/l/-', 2), add('/l/0', 0)])).toBe(
      '{\n  "c": {\n    "command": ["a", "b"],\n    "x": {\n      "y": [\n        1\n      ]\n    }\n  },\n  "l": [\n    0,\n    1,\n    2\n  ]\n}\n',
    );
  });

  it('fills an empty object on lines of its own, and replaces values where they stand', () => {
    const text = '{\n\t"a": {},\n\t"b": 1\n}';
    expect(editJson(text, [add('/a/k', true), { op: 'replace', path: '/b', value: { n: 2 } }])).toBe(
      '{\n\t"a": {\n\t\t"k": true\n\t},\n\t"b": {\n\t\t"n": 2\n\t}\n}',
    );
  });
});
