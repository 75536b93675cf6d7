import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { summariseProfiles } from './profile.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });

describe('summariseProfiles', () => {
  it('splits busy time by part of the request path, idle left out', () => {
    const nodes = [
      { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 3, 6, 7, 9] },
      { id: 2, callFrame: frame('handleAdmission', 'file:///w/dist/webhook/admission/handler.js'), hitCount: 10, children: [4, 5] },
      // The innermost frame that belongs somewhere decides: reading files for the approval store is the store's.
      { id: 4, callFrame: frame('list', 'file:///w/dist/src/approvals/local-store.js'), hitCount: 0, children: [8] },
      { id: 8, callFrame: frame('readFile', 'node:fs/promises'), hitCount: 30 },
      { id: 5, callFrame: frame('evaluateBytes', 'file:///w/dist/src/policy/pool.js'), hitCount: 20 },
      { id: 3, callFrame: frame('opa_value_hash', 'wasm://wasm/opa.wasm-1'), hitCount: 20 },
      { id: 6, callFrame: frame('(garbage collector)'), hitCount: 20 },
      { id: 7, callFrame: frame('(idle)'), hitCount: 900 },
      // The handler runs inside the body reader's callback until its first await: its work is not the body reader's.
      { id: 9, callFrame: frame('read', 'file:///w/node_modules/body-parser/lib/read.js'), hitCount: 0, children: [10, 11] },
      { id: 10, callFrame: frame('parse', 'file:///w/node_modules/body-parser/lib/types/json.js'), hitCount: 15 },
      { id: 11, callFrame: frame('decodeReview', 'file:///w/dist/webhook/admission/review.js'), hitCount: 5, children: [12] },
      { id: 12, callFrame: frame('applyFixes', 'file:///w/dist/src/fix/apply.js'), hitCount: 0, children: [13] },
      { id: 13, callFrame: frame('_deepClone', 'file:///w/node_modules/fast-json-patch/commonjs/helpers.js'), hitCount: 10 },
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-prof-'));
    writeFileSync(path.join(dir, 'CPU.1.cpuprofile'), JSON.stringify({ nodes, startTime: 0, endTime: 2_000_000, samples: [], timeDeltas: [] }));
    const [t] = summariseProfiles(dir);
    expect(t!.totalMs).toBe(2000);
    expect(t!.busyShare).toBeCloseTo(0.13);
    expect(Object.fromEntries(t!.categories.map((c) => [c.name, Math.round(c.share * 130)]))).toEqual({
      'approval store (local files)': 30,
      'hand-off to workers (serialise, post)': 20,
      'policy evaluation (wasm)': 20,
      'garbage collection': 20,
      'request body (JSON parse)': 15,
      'decode, input, decide': 15,
      'fix pipeline (patch, schema check)': 10,
    });
    expect(t!.top[0]).toEqual({ name: 'readFile node:fs/promises:1', selfShare: 30 / 130 });
  });
});
