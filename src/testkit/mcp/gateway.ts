// Test support for belay mcp: a real gateway in local mode over HTTPS with
// the default bundle compiled from policies/ (the rules the product ships),
// an agent token, approver tokens for the console API (how the tests decide
// approvals, with separation of duties enforced), and a local approval store
// in a temp dir.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Gateway, startGateway } from '../../../webhook/gateway.js';
import { entrypointOf, FACES } from '../../contract/index.js';
import { silentLogger } from '../../observe/log.js';
import { buildBundle } from '../opa-bundle.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const AGENT_TOKEN = 'mcp-agent-token-0123456789abcdef';
export const OTHER_AGENT_TOKEN = 'mcp-other-agent-token-0123456789';
export const ALICE_TOKEN = 'mcp-alice-approver-token-012345';
export const AGENT = 'system:serviceaccount:agents:assistant';

export interface GatewayFixture {
  gateway: Gateway;
  url: string;
  ca: Buffer;
  caFile: string;
  dir: string;
  agentTokenFile: string;
  /** Approves (or edits, with replacement arguments) an ApprovalRequest as alice, through the console API. */
  approve(id: string, edit?: { arguments: Record<string, unknown> }): Promise<void>;
  reject(id: string, message: string): Promise<void>;
  close(): Promise<void>;
}

let compiled: Buffer | undefined;

/** The default bundle (policies/), compiled once per test file. */
export function defaultBundle(): Buffer {
  compiled ??= buildBundle(path.join(ROOT, 'policies'), { revision: 'mcp-test', entrypoints: FACES.map(entrypointOf) });
  return compiled;
}

export async function startGatewayFixture(): Promise<GatewayFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-mcp-'));
  const bundlePath = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundlePath, defaultBundle());
  const agentTokenFile = path.join(dir, 'agents.yaml');
  writeFileSync(
    agentTokenFile,
    `- {token: ${AGENT_TOKEN}, username: "${AGENT}", groups: ["system:serviceaccounts", "system:serviceaccounts:agents"]}\n` +
      `- {token: ${OTHER_AGENT_TOKEN}, username: "system:serviceaccount:agents:other", groups: ["system:serviceaccounts"]}\n`,
  );
  const approvers = path.join(dir, 'approvers.yaml');
  writeFileSync(approvers, `- {token: ${ALICE_TOKEN}, username: alice, groups: ["belay:approvers"]}\n`);
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    evaluation: { mode: 'in-process' },
    approvals: { stateDir: path.join(dir, 'state'), gatewayUser: 'belay-gateway' },
    console: { approverTokenFile: approvers },
    agentApi: { tokenFile: agentTokenFile },
  });
  const ca = readFileSync(gateway.caFile);
  const decide = async (id: string, body: unknown) => {
    const r = await post(`${gateway.url}/console/api/approvals/${id}/decision`, ALICE_TOKEN, body, ca);
    if (r.status !== 200) throw new Error(`deciding ${id}: ${r.status} ${r.text}`);
  };
  return {
    gateway,
    url: gateway.url,
    ca,
    caFile: gateway.caFile,
    dir,
    agentTokenFile,
    approve: (id, edit) => decide(id, edit ? { action: 'edit', arguments: edit.arguments } : { action: 'approve' }),
    reject: (id, message) => decide(id, { action: 'reject', message }),
    async close() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function post(url: string, token: string, body: unknown, ca: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The ApprovalRequest a deferred tool call names. */
export function approvalIdIn(text: string): string {
  const m = /ApprovalRequest ([a-z0-9-]+\/belay-[0-9a-f]+(?:-\d+)?)/.exec(text);
  if (!m) throw new Error(`no ApprovalRequest in: ${text}`);
  return m[1]!;
}
