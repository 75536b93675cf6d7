import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { summariseProfiles } from './profile.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });

describe('summariseProfiles', () => {
  it('splits busy time by part of the request path, idle left out', () => {
    const nodes = [
      { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 3, 6, 7] },
      { id: 2, callFrame: frame('handleAdmission', 'file:///w/dist/webhook/admission/handler.js'), hitCount: 10, children: [4, 5] },
      // The approval store wins over anything else on the same stack.
      { id: 4, callFrame: frame('list', 'file:///w/dist/src/approvals/local-store.js'), hitCount: 0, children: [8] },
      { id: 8, callFrame: frame('readFile', 'node:fs/promises'), hitCount: 30 },
      { id: 5, callFrame: frame('evaluateBytes', 'file:///w/dist/src/policy/pool.js'), hitCount: 20 },
      { id: 3, callFrame: frame('opa_value_hash', 'wasm://wasm/opa.wasm-1'), hitCount: 20 },
      { id: 6, callFrame: frame('(garbage collector)'), hitCount: 20 },
      { id: 7, callFrame: frame('(idle)'), hitCount: 900 },
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-prof-'));
    writeFileSync(path.join(dir, 'CPU.1.cpuprofile'), JSON.stringify({ nodes, startTime: 0, endTime: 2_000_000, samples: [], timeDeltas: [] }));
    const [t] = summariseProfiles(dir);
    expect(t!.totalMs).toBe(2000);
    expect(t!.busyShare).toBeCloseTo(0.1);
    expect(Object.fromEntries(t!.categories.map((c) => [c.name, c.share]))).toEqual({
      'approval store (local files)': 0.3,
      'hand-off to workers (serialise, post)': 0.2,
      'policy evaluation (wasm)': 0.2,
      'garbage collection': 0.2,
      'HTTP, TLS, express, runtime': 0.1,
    });
    expect(t!.top[0]).toEqual({ name: 'readFile node:fs/promises:1', selfShare: 0.3 });
  });
});
