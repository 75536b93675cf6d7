// The opa CLI, for what only OPA itself can do: `opa test` for the Rego unit
// tests and `opa eval` as the reference evaluator of the differential mode.

import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BelayError } from '../errors.js';
import type { ReportItem } from './reporters/report.js';

/** BELAY_OPA, else the project's pinned install (.tools/bin/opa, in the working directory or belay's checkout), else opa on PATH. */
export function findOpa(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (env.BELAY_OPA) return env.BELAY_OPA;
  const pinned = path.join(cwd, '.tools/bin/opa');
  if (existsSync(pinned)) return pinned;
  // The pinned install of the belay checkout this code runs from (belay test run from another directory).
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.tools/bin/opa'))) return path.join(dir, '.tools/bin/opa');
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'opa');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new BelayError('bad_request', 'the opa CLI was not found: install it with "make opa" (into .tools/bin), put it on PATH, or set BELAY_OPA');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs opa without a shell; never rejects on a non-zero exit (callers read the code). */
export function runOpa(opa: string, args: string[], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(opa, args, { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 300_000 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new BelayError('bad_request', `cannot run ${opa}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

interface OpaTestResult {
  location?: { file?: string; row?: number };
  package?: string;
  name?: string;
  fail?: boolean;
  skip?: boolean;
  error?: { message?: string; code?: string } | string;
  duration?: number;
  output?: string;
}

/** `opa test` over `paths` (policies and Rego tests), one report item per test rule. */
export async function opaTest(opa: string, paths: string[], cwd: string = process.cwd()): Promise<ReportItem[]> {
  // Gatekeeper YAML (policies/gatekeeper/) is compiled by make bundle, not Rego or data opa should load.
  const run = await runOpa(opa, ['test', '--format', 'json', '--ignore', 'gatekeeper', ...paths], { cwd });
  let results: OpaTestResult[];
  try {
    results = JSON.parse(run.stdout) as OpaTestResult[];
    if (!Array.isArray(results)) throw new Error('not a list');
  } catch {
    // Compile or load errors: opa prints them instead of results.
    throw new BelayError('bad_request', `opa test ${paths.join(' ')} failed to run (exit ${run.code}): ${(run.stderr || run.stdout).trim()}`);
  }
  return results
    .map((r): ReportItem => {
      const file = r.location?.file ? path.resolve(cwd, r.location.file) : undefined;
      const status = r.skip ? 'skip' : r.error ? 'error' : r.fail ? 'fail' : 'pass';
      const error = typeof r.error === 'string' ? r.error : r.error?.message;
      const output = r.output ? Buffer.from(r.output, 'base64').toString('utf8') : undefined;
      return {
        suite: 'opa test',
        id: `${r.package ?? ''}.${r.name ?? ''}`,
        name: `${(r.package ?? '').replace(/^data\./, '')}.${r.name ?? ''}`,
        ...(file ? { file } : {}),
        ...(r.location?.row ? { line: r.location.row } : {}),
        status,
        ms: (r.duration ?? 0) / 1e6,
        mismatches:
          status === 'fail'
            ? [{ field: 'rule', expected: 'true', actual: 'false or undefined' }]
            : status === 'error'
              ? [{ field: 'rule', expected: 'to evaluate', actual: error ?? 'error' }]
              : [],
        ...(output && status !== 'pass' ? { output } : {}),
      };
    })
    .sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0));
}
