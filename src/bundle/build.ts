// Building the bundle: `opa build -t wasm` of policies/ together with the
// modules and data compiled from the Gatekeeper sources under
// policies/gatekeeper/ (src/gatekeeper/compile.ts), in v0-compatible mode as
// Gatekeeper runs templates (belay's own modules say `import rego.v1`). Used
// by `make bundle` (build-main.ts) and `belay test --build`. A template that
// does not compile, or calls a built-in nobody provides, fails the build with
// the template's name; nothing is written then.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileGatekeeper, explainOpaErrors, type GeneratedFile, templatesCalling } from '../gatekeeper/compile.js';
import { type GatekeeperSources, loadGatekeeperSources } from '../gatekeeper/resources.js';
import { missingBuiltins } from '../policy/wasm.js';
import { readArchive } from './archive.js';

export interface BuildOptions {
  opa: string;
  /** The policy sources (policies/); Gatekeeper YAML is read from its gatekeeper/ folder. */
  policies: string;
  out: string;
  revision: string;
  signingKey?: string;
  signingAlg?: string;
  /** Extra Gatekeeper sources (belay test: a suite's templates and constraints), instead of policies/gatekeeper. */
  gatekeeper?: GatekeeperSources;
  /** Where the generated sources go (kept for inspection); a temporary folder when absent. */
  workDir?: string;
}

export interface BuildResult {
  templates: number;
  constraints: number;
}

/** The folder of Gatekeeper YAML inside a policies folder. */
export function gatekeeperDir(policies: string): string {
  return path.join(policies, 'gatekeeper');
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new BuildError(`cannot run ${cmd}: ${err.message}`));
        return;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const sources: GatekeeperSources =
    options.gatekeeper ??
    (existsSync(gatekeeperDir(options.policies)) ? loadGatekeeperSources(gatekeeperDir(options.policies)) : { templates: [], constraints: [], sync: [] });
  const compiled = compileGatekeeper(sources);
  mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  // Never inside the policies being copied (the output may well be there).
  const work = options.workDir ?? mkdtempSync(path.join(tmpdir(), 'belay-bundle-'));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const tmpOut = `${options.out}.tmp`;
  try {
    // One bundle root: a copy of the policies (without the Gatekeeper YAML and
    // the Rego tests) with the generated modules beside them and data.gatekeeper
    // added to the root data.json, so the bundle's files and roots are as before.
    const gkSources = path.resolve(gatekeeperDir(options.policies));
    cpSync(options.policies, work, {
      recursive: true,
      filter: (src) => path.resolve(src) !== gkSources && !src.endsWith('_test.rego'),
    });
    for (const f of compiled.files) {
      mkdirSync(path.dirname(path.join(work, f.path)), { recursive: true });
      writeFileSync(path.join(work, f.path), f.text);
    }
    const dataFile = path.join(work, 'data.json');
    const data = existsSync(dataFile) ? (JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, unknown>) : {};
    if ('gatekeeper' in data) throw new BuildError(`${path.join(options.policies, 'data.json')} has a gatekeeper key; it is where the compiled Constraints go`);
    writeFileSync(dataFile, JSON.stringify({ ...data, gatekeeper: compiled.data }));
    const args = ['build', '-t', 'wasm', '--v0-compatible', '--revision', options.revision, '-b'];
    if (options.signingKey) {
      args.push('--signing-key', options.signingKey);
      if (options.signingAlg) args.push('--signing-alg', options.signingAlg);
    }
    args.push('-o', tmpOut, work);
    const built = await run(options.opa, args);
    if (built.code !== 0) throw new BuildError(`opa build failed:\n${explainOpaErrors(built.output, compiled.files)}`);
    await checkBuiltins(tmpOut, compiled.files);
    renameSync(tmpOut, options.out);
  } finally {
    rmSync(tmpOut, { force: true });
    if (!options.workDir) rmSync(work, { recursive: true, force: true });
  }
  return { templates: sources.templates.length, constraints: sources.constraints.length };
}

/** Refuses a bundle whose wasm calls a built-in that belay does not provide, naming the templates that call it. */
async function checkBuiltins(bundleFile: string, files: readonly GeneratedFile[]): Promise<void> {
  const archive = await readArchive(readFileSync(bundleFile));
  const wasm = archive.get('/policy.wasm');
  if (!wasm) throw new BuildError('opa build wrote no /policy.wasm');
  const missing = await missingBuiltins(wasm);
  if (missing.length === 0) return;
  const lines = missing.map((name) => {
    const templates = templatesCalling(name, files);
    return templates.length > 0 ? `${templates.map((t) => `ConstraintTemplate ${t}`).join(', ')} calls ${name}` : `the policies call ${name}`;
  });
  throw new BuildError(`the bundle needs built-ins that belay does not provide: ${lines.join('; ')}`);
}
