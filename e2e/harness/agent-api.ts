// The agent API over HTTPS with a bearer token (the agent's service-account
// token, checked by the gateway with a TokenReview), and `belay` CLI commands
// run as one of the cluster's identities.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { gatewayUrl, paths } from './env.js';
import { run } from './proc.js';

export interface Reply {
  status: number;
  body: any;
}

export function agentApi(method: 'GET' | 'POST', pathname: string, bearer: string, body?: unknown, timeoutMs = 60_000): Promise<Reply> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(pathname, gatewayUrl),
      {
        method,
        ca: readFileSync(path.join(paths.tls, 'ca.crt')),
        headers: { authorization: `Bearer ${bearer}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** `belay <args…>` as one of the cluster's identities (its kubeconfig context). */
export async function belayCli(context: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [paths.gatewayMain, ...args, '--kubeconfig', paths.kubeconfig, '--context', context], { cwd: paths.root });
}

/** `belay approvals …` as one of the cluster's identities; throws with the output when it fails. */
export async function belayApprovals(context: string, args: string[]): Promise<string> {
  const r = await belayCli(context, ['approvals', ...args]);
  if (r.code !== 0) throw new Error(`belay approvals ${args.join(' ')} as ${context} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
