// The upstream MCP server as a child process speaking MCP on its stdio. Its
// stderr is passed through (MCP hosts show it in their logs) and the last
// lines kept, so when it exits belay can say how and why.

import { type ChildProcess, spawn } from 'node:child_process';
import { DEFAULT_MAX_LINE_BYTES, LineTransport } from './framing.js';

export interface UpstreamExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Could not be started at all (ENOENT, EACCES). */
  error?: string;
}

export interface UpstreamProcess {
  readonly transport: LineTransport;
  readonly pid: number | undefined;
  readonly exited: Promise<UpstreamExit>;
  /** The last lines it wrote to stderr. */
  stderrTail(): string;
  /** Closes its stdin, then SIGTERM, then SIGKILL. */
  stop(): Promise<UpstreamExit>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where its stderr goes besides the kept tail; default our stderr. */
  stderr?: NodeJS.WritableStream | null;
  maxLineBytes?: number;
}

const TAIL_BYTES = 4096;

export function spawnUpstream(command: string, args: readonly string[], options: SpawnOptions = {}): UpstreamProcess {
  let child: ChildProcess;
  let tail = '';
  let resolveExit!: (e: UpstreamExit) => void;
  const exited = new Promise<UpstreamExit>((r) => (resolveExit = r));
  child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, ...(options.cwd ? { cwd: options.cwd } : {}) });
  child.once('error', (err) => resolveExit({ code: null, signal: null, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  child.once('exit', (code, signal) => resolveExit({ code, signal }));
  const sink = options.stderr === undefined ? process.stderr : options.stderr;
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    sink?.write(chunk);
  });
  // A write to a child that already exited is reported by the transport, not thrown.
  child.stdin?.on('error', () => undefined);
  const transport = new LineTransport({
    input: child.stdout!,
    output: child.stdin!,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    endOutputOnClose: true,
  });
  return {
    transport,
    pid: child.pid,
    exited,
    stderrTail: () => tail.trim(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      await transport.close();
      const term = setTimeout(() => child.kill('SIGTERM'), 2_000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const e = await exited;
      clearTimeout(term);
      clearTimeout(kill);
      return e;
    },
  };
}

/** How it ended, for a person: "exited with code 1: <last stderr line>". */
export function describeExit(e: UpstreamExit, stderrTail: string, command: string): string {
  const how = e.error
    ? `could not be started (${e.error}): is ${command} installed and on PATH?`
    : e.signal
      ? `was killed by ${e.signal}`
      : `exited with code ${e.code}`;
  const last = stderrTail
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  return `the upstream MCP server (${command}) ${how}${last && !e.error ? `; its last words: ${last}` : ''}`;
}
