// The real kubectl binary, run as one of the test identities. Every call is
// appended to a transcript (what was run, what kubectl printed, exit code),
// which e2e/run.sh prints and the closing notes quote.

import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { paths } from './env.js';
import { type RunResult, run } from './proc.js';

export const AGENT = 'system:serviceaccount:agents:remediator';

/**
 * Who runs kubectl. The agent is the admin impersonating the service account
 * (`kubectl --as`); the API server then adds the groups
 * system:serviceaccounts and system:serviceaccounts:agents itself.
 */
export const identities = {
  admin: ['--context', 'admin'],
  agent: ['--context', 'admin', '--as', AGENT],
  alice: ['--context', 'alice'], // approver (group belay:approvers)
  carol: ['--context', 'carol'], // approver (group belay:approvers)
  bob: ['--context', 'bob'], // an ordinary human
  belay: ['--context', 'belay'], // the gateway's own identity (system:serviceaccount:belay:belay)
} as const;

export type Identity = keyof typeof identities;

export interface KubectlResult extends RunResult {
  /** The command line as a person would type it (kubeconfig omitted). */
  command: string;
}

export interface KubectlOptions {
  stdin?: string;
  /** Extra text for the transcript, e.g. the scenario name. */
  note?: string;
  timeoutMs?: number;
  /** Leave the output out of the transcript (e.g. /metrics). */
  quiet?: boolean;
}

/** Starts a transcript section; the following calls are listed under it. */
export function transcriptSection(title: string): void {
  write(`\n### ${title}\n`);
}

export async function kubectl(as: Identity, args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const full = ['--kubeconfig', paths.kubeconfig, ...identities[as], '--request-timeout=30s', ...args];
  const r = await run(paths.kubectl, full, {
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const shown = ['kubectl', ...identities[as], ...args].map(quote).join(' ');
  const result = { ...r, command: shown };
  record(result, options);
  return result;
}

/** kubectl as admin that must succeed; returns stdout. */
export async function admin(args: string[], stdin?: string, options: KubectlOptions = {}): Promise<string> {
  const r = await kubectl('admin', args, { ...options, ...(stdin !== undefined ? { stdin } : {}) });
  if (r.code !== 0) throw new Error(`${r.command} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The stored object as the API server has it, or undefined when NotFound. */
export async function getObject<T = Record<string, unknown>>(kindName: string[], namespace?: string): Promise<T | undefined> {
  const nsArgs = namespace ? ['-n', namespace] : [];
  const r = await run(paths.kubectl, ['--kubeconfig', paths.kubeconfig, '--context', 'admin', 'get', ...kindName, ...nsArgs, '-o', 'json'], {});
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${kindName.join(' ')} failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Adds a command that is not kubectl (helm, …) and its output to the transcript. */
export function transcribe(r: KubectlResult, options: KubectlOptions = {}): void {
  record(r, options);
}

function record(r: KubectlResult, options: KubectlOptions): void {
  const lines = [`$ ${r.command}${options.stdin ? ' <<EOF (manifest below)' : ''}`];
  if (options.note) lines.unshift(`# ${options.note}`);
  if (options.stdin && options.stdin.length < 2000)
    lines.push(
      ...options.stdin
        .trimEnd()
        .split('\n')
        .map((l) => `  | ${l}`),
    );
  if (options.quiet) lines.push('(output not recorded)');
  else if (r.stdout.trim()) lines.push(r.stdout.trimEnd());
  if (r.stderr.trim()) lines.push(r.stderr.trimEnd());
  lines.push(`[exit ${r.code}]`, '');
  write(lines.join('\n'));
}

function write(text: string): void {
  mkdirSync(paths.out, { recursive: true });
  appendFileSync(path.join(paths.out, 'transcript.md'), `${text}\n`);
}
