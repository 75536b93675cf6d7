// Development tokens for local mode (`make run`): an approver and an agent,
// made once under a private folder and reused, like the development TLS. Never
// used unless asked for with --dev-tokens.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { readStaticTokenFile, type StaticToken } from './static.js';

export interface DevTokenFiles {
  approvers: string;
  agents: string;
}

const DEV_APPROVERS: Omit<StaticToken, 'token'>[] = [{ username: 'dev-approver', groups: ['belay:approvers'] }];
const DEV_AGENTS: Omit<StaticToken, 'token'>[] = [
  { username: 'system:serviceaccount:agents:dev-assistant', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] },
];

/** Creates `approvers.yaml` and `agents.yaml` in `dir` unless present; returns their paths. */
export function ensureDevTokens(dir: string): { files: DevTokenFiles; created: boolean } {
  const files = { approvers: path.join(dir, 'approvers.yaml'), agents: path.join(dir, 'agents.yaml') };
  let created = false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [file, users] of [
    [files.approvers, DEV_APPROVERS],
    [files.agents, DEV_AGENTS],
  ] as const) {
    if (existsSync(file)) continue;
    const tokens = users.map((u) => ({ token: randomBytes(24).toString('base64url'), ...u }));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `# Development tokens for belay's local mode (make run). Keep private.\n${stringify(tokens)}`, { mode: 0o600 });
    renameSync(tmp, file);
    created = true;
  }
  return { files, created };
}

/** One line per token, for the start-up banner. */
export function describeDevTokens(files: DevTokenFiles): string[] {
  return [
    ...readStaticTokenFile(files.approvers).map((t) => `approver ${t.username}: ${t.token}`),
    ...readStaticTokenFile(files.agents).map((t) => `agent ${t.username}: ${t.token}`),
  ];
}
