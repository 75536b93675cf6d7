// Test support: runs a `belay` subcommand in-process and captures its output
// and exit status (usage errors arrive as a CommanderError with exitCode).

import { buildProgram } from '../cli/program.js';

export async function belay(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { write: stdout } = process.stdout;
  const { write: stderr } = process.stderr;
  process.stdout.write = ((s: unknown) => {
    out.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: unknown) => {
    err.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  let code: number;
  try {
    await buildProgram().parseAsync(['node', 'belay', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? -1;
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    process.exitCode = undefined;
  }
  return { code, out: out.join(''), err: err.join('') };
}
