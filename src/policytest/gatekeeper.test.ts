// belay test on Gatekeeper suites, held to gator: every suite under
// policy-tests/gatekeeper runs through belay's wasm and through the pinned
// gator (policy-tests/oracles/build.sh; `make test` builds it), and the two must pass and
// fail the very same cases — the suites as written, and a copy whose
// assertions are all inverted (so every case must fail in both).

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSuites, type GatorObserved, runGatekeeperSuites } from './gatekeeper.js';
import { findOpa } from './opa.js';

const root = path.resolve(import.meta.dirname, '../..');
const suitesDir = path.join(root, 'policy-tests/gatekeeper');
const gator = path.join(root, '.tools/bin/gator');
const haveGator = existsSync(gator);
const mustHaveGator = process.env.CI === 'true';

/** gator verify -v's verdict per "test/case". */
function gatorVerdicts(suiteFile: string): Map<string, 'pass' | 'fail'> {
  let out: string;
  try {
    out = execFileSync(gator, ['verify', '-v', suiteFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const verdicts = new Map<string, 'pass' | 'fail'>();
  let test = '';
  for (const line of out.split('\n')) {
    const run = /^=== RUN\s+(\S+)/.exec(line);
    if (run) test = run[1]!;
    const c = /^ {4}--- (PASS|FAIL): (\S+)/.exec(line);
    if (c) verdicts.set(`${test}/${c[2]}`, c[1] === 'PASS' ? 'pass' : 'fail');
  }
  return verdicts;
}

async function belayVerdicts(files: string[]): Promise<Map<string, Map<string, 'pass' | 'fail'>>> {
  const items = await runGatekeeperSuites(files, { opa: findOpa(root), policies: path.join(root, 'policies') });
  const out = new Map<string, Map<string, 'pass' | 'fail'>>();
  for (const i of items) {
    const o = i.observed as GatorObserved;
    const m = out.get(o.suiteFile) ?? new Map<string, 'pass' | 'fail'>();
    m.set(`${o.test}/${o.case}`, i.status === 'pass' ? 'pass' : 'fail');
    out.set(o.suiteFile, m);
  }
  return out;
}

const work = mkdtempSync(path.join(tmpdir(), 'belay-gk-suites-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Gatekeeper suites: belay test and gator verify agree', () => {
  const files = findSuites(suitesDir);

  it('finds the suites', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it('passes every case of policy-tests/gatekeeper through belay', async () => {
    const verdicts = await belayVerdicts(files);
    const all = [...verdicts.values()].flatMap((m) => [...m.entries()]);
    expect(all.length).toBeGreaterThanOrEqual(30);
    expect(all.filter(([, v]) => v !== 'pass')).toEqual([]);
  }, 300_000);

  it.runIf(haveGator || mustHaveGator)(
    'gives gator verify’s verdict on every case, as written and inverted',
    async () => {
      expect(haveGator, `gator is not built: run make gator (${gator})`).toBe(true);
      // The inverted copy: every `violations: no` becomes yes and every count or yes becomes no.
      const inverted = path.join(work, 'inverted');
      cpSync(suitesDir, inverted, { recursive: true });
      for (const f of findSuites(inverted)) {
        const text = readFileSync(f, 'utf8').replace(/violations: (yes|no|\d+)/g, (_m, v: string) => `violations: ${v === 'no' || v === '0' ? 'yes' : 'no'}`);
        writeFileSync(f, text);
      }
      for (const dir of [suitesDir, inverted]) {
        const suiteFiles = findSuites(dir);
        const belay = await belayVerdicts(suiteFiles);
        for (const f of suiteFiles) {
          const g = gatorVerdicts(f);
          const b = belay.get(f)!;
          expect(g.size, `gator ran no case of ${f}`).toBeGreaterThan(0);
          expect(Object.fromEntries(b), f).toEqual(Object.fromEntries(g));
          if (dir === inverted)
            expect(
              [...b.values()].filter((v) => v === 'pass'),
              f,
            ).toEqual([]);
        }
      }
    },
    600_000,
  );
});
