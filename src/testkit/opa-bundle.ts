// Test support: builds small bundles with the real opa CLI, so tests exercise
// the same compiler and wasm the product ships.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The pinned opa: the project's install, else one on PATH. */
export function opaBinary(): string {
  const local = path.join(root, '.tools/bin/opa');
  return existsSync(local) ? local : 'opa';
}

export interface BuildOptions {
  entrypoints?: string[];
  revision?: string;
}

/** Compiles a directory of Rego (and data.json) into a wasm bundle; returns its bytes. */
export function buildBundle(dir: string, options: BuildOptions = {}): Buffer {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'belay-bundle-')), 'bundle.tar.gz');
  const entrypoints = options.entrypoints ?? ['belay/admission/decision'];
  execFileSync(
    opaBinary(),
    [
      'build',
      '-t',
      'wasm',
      '--ignore',
      '*_test.rego',
      '--ignore',
      'gatekeeper',
      ...entrypoints.flatMap((e) => ['-e', e]),
      '--revision',
      options.revision ?? 'test',
      '-o',
      out,
      dir,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return readFileSync(out);
}

/** Writes files (path → content) into a fresh temp dir and returns it. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-src-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The gateway tests' own policy (src/testkit/policies/admission). */
export const TEST_POLICY_DIR = path.join(root, 'src/testkit/policies/admission');
