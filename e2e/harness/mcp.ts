// belay mcp in the e2e suite: long-running processes (a gateway, belay mcp
// --listen, reference servers) with a log file each, the MCP conformance
// suite (installed by e2e/mcp/tools.sh) and its results per scenario.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { paths } from './env.js';
import { run, waitFor } from './proc.js';

/** Ports for what the MCP tests start (BELAY_MCP_PORT_BASE, 19040 by default): base, base+1, … */
export const mcpPort = (offset: number) => Number(process.env.BELAY_MCP_PORT_BASE ?? 19040) + offset;

export const conformanceDir = path.join(paths.root, '.tools', 'mcp-conformance');
export const tsxLoader = `file://${path.join(paths.root, 'node_modules', 'tsx', 'dist', 'loader.mjs')}`;

export interface Background {
  readonly name: string;
  readonly log: string;
  readonly child: ChildProcess;
  running(): boolean;
  stop(): Promise<void>;
}

/** Starts a process whose output goes to <out>/<name>.log. */
export function startBackground(name: string, cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Background {
  mkdirSync(paths.out, { recursive: true });
  const log = path.join(paths.out, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(cmd, args, { cwd: o.cwd ?? paths.root, env: { ...process.env, ...o.env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    log,
    child,
    running,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until `bg` listens on `port`, or fails with the end of its log. */
export async function waitListening(bg: Background, port: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${bg.name} to listen on 127.0.0.1:${port}`,
    async () => {
      if (!bg.running()) throw new Error(`${bg.name} exited; see ${bg.log}:\n${tail(bg.log)}`);
      return (await portOpen(port)) ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One check of one scenario, as the conformance suite wrote it. */
export interface Check {
  id: string;
  status: string;
}

export type ConformanceResults = Record<string, Check[]>;

/** Runs the suite's server scenarios against `url`; returns the checks per scenario. */
export async function runConformance(url: string, outDir: string, extraCa?: string): Promise<ConformanceResults> {
  const node = path.join(conformanceDir, 'node_modules', '.bin', 'node');
  const cli = path.join(conformanceDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  if (!existsSync(node) || !existsSync(cli)) throw new Error(`the MCP conformance suite is not installed in ${conformanceDir}: run make mcp-tools`);
  const r = await run(node, [cli, 'server', '--url', url, '-o', outDir], { env: extraCa ? { NODE_EXTRA_CA_CERTS: extraCa } : {}, timeoutMs: 10 * 60_000 });
  const results: ConformanceResults = {};
  for (const entry of readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = path.join(outDir, entry, 'checks.json');
    if (!m || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    results[m[1]!] = checks.map((c) => ({ id: c.id, status: c.status })).sort((a, b) => a.id.localeCompare(b.id));
  }
  if (Object.keys(results).length === 0) throw new Error(`the conformance suite wrote no results (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return results;
}

/** passed/total per scenario, e.g. "5/5". */
export function counts(results: ConformanceResults): Record<string, string> {
  return Object.fromEntries(
    Object.entries(results)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, checks]) => [s, `${checks.filter((c) => c.status === 'SUCCESS').length}/${checks.length}`]),
  );
}
