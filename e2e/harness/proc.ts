// Child processes: run a command to completion, capturing everything.

import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal or the timeout. */
  code: number;
}

export interface RunOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { stdin, env, cwd, timeoutMs = 60_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 });
    });
    // A child that exits without reading its input closes the pipe: its exit code and output say why, not an EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

/** Runs a command and throws with its output when it fails. */
export async function runOk(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const seconds = (startMs: number) => ((Date.now() - startMs) / 1000).toFixed(1);
