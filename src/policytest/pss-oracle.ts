// Kubernetes' own Pod Security library as an oracle: .tools/bin/pss-oracle
// (policy-tests/oracles/pss-oracle, k8s.io/pod-security-admission at the version its go.mod
// pins; `make pss-oracle` builds it) judges pods at baseline and restricted,
// and belay's compiled bundle is held to the same verdicts (pss-differential.test.ts).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../contract/index.js';

export interface OracleVerdict {
  allowed: boolean;
  reason?: string;
  detail?: string;
  checks?: string[];
}

export interface OracleAnswer {
  baseline?: OracleVerdict;
  restricted?: OracleVerdict;
  error?: string;
}

/** The oracle binary of this checkout, or null when it is not built. */
export function findPssOracle(root: string = process.cwd()): string | null {
  const p = path.join(root, '.tools/bin/pss-oracle');
  return existsSync(p) ? p : null;
}

/** The oracle's verdicts for `pods`, in order (one process for the whole batch). */
export function judgePods(oracle: string, pods: readonly JsonObject[]): OracleAnswer[] {
  const out = execFileSync(oracle, [], { input: `${pods.map((p) => JSON.stringify(p)).join('\n')}\n`, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  const answers = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as OracleAnswer);
  if (answers.length !== pods.length) throw new Error(`pss-oracle answered ${answers.length} of ${pods.length} pods`);
  return answers;
}

export function oracleVersion(oracle: string): string {
  return execFileSync(oracle, ['-version'], { encoding: 'utf8' }).trim();
}
