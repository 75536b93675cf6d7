// belay mcp is invisible with an allow-everything bundle: the MCP
// conformance suite gives the same results against a reference server
// directly and through belay mcp — both with the server as a child process
// on stdio (the stdio proxy's upstream side) and as a shared streamable HTTP
// server (--upstream-url). The suite is an HTTP client, so belay mcp faces it
// with --listen. A real gateway (the CLI, local mode) evaluates every call.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../src/testkit/opa-bundle.js';
import { ensureDevCertificates } from '../src/tls/devcerts.js';
import { paths } from './harness/env.js';
import { ensureGatewayBuilt } from './harness/gateway.js';
import { type Background, type ConformanceResults, counts, mcpPort, runConformance, startBackground, waitListening } from './harness/mcp.js';
import { runOk } from './harness/proc.js';

const dir = path.join(paths.out, 'mcp-conformance');
const ports = { gateway: mcpPort(0), reference: mcpPort(1), viaStdio: mcpPort(2), viaHttp: mcpPort(3) };
const AGENT_TOKEN = 'conformance-agent-token-0123456789';
const started: Background[] = [];
let reference: string;

beforeAll(async () => {
  await ensureGatewayBuilt();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'bundle.tar.gz'),
    buildBundle(path.join(paths.root, 'e2e/mcp/allow-all'), {
      revision: 'allow-all',
      entrypoints: ['admission', 'authorization', 'toolcall', 'toolresult', 'prompt'].map((f) => `belay/${f}/decision`),
    }),
  );
  writeFileSync(
    path.join(dir, 'agents.yaml'),
    `- {token: ${AGENT_TOKEN}, username: "system:serviceaccount:agents:conformance", groups: ["system:serviceaccounts"]}\n`,
  );
  writeFileSync(path.join(dir, 'agent-token'), `${AGENT_TOKEN}\n`);
  // The suite sends a request with Host: evil.example.com to test DNS rebinding protection; over
  // HTTPS that needs a certificate valid for the name, or the TLS check refuses before belay can.
  ensureDevCertificates(path.join(dir, 'proxy-tls'), { hosts: ['localhost', '127.0.0.1', 'evil.example.com'] });
  // The reference server as one JavaScript file (a session's child process then starts in a fraction of
  // tsx's time), under .build so that node finds the SDK it imports in the repository's node_modules.
  reference = path.join(dir, 'reference-server.mjs');
  await runOk(
    path.join(paths.root, 'node_modules/.bin/esbuild'),
    ['e2e/mcp/reference-server.ts', '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${reference}`, '--log-level=warning'],
    { cwd: paths.root },
  );
  const main = paths.gatewayMain;
  const gateway = startBackground('mcp-conformance-gateway', process.execPath, [
    main,
    '--listen',
    `127.0.0.1:${ports.gateway}`,
    '--bundle',
    path.join(dir, 'bundle.tar.gz'),
    '--tls-dir',
    path.join(dir, 'gateway-tls'),
    '--agent-token-file',
    path.join(dir, 'agents.yaml'),
    '--local',
    '--state-dir',
    path.join(dir, 'state'),
    '--log-level',
    'warn',
  ]);
  started.push(gateway);
  const refHttp = startBackground('mcp-reference-server', process.execPath, [reference, '--http', `127.0.0.1:${ports.reference}`]);
  started.push(refHttp);
  await waitListening(gateway, ports.gateway);
  await waitListening(refHttp, ports.reference);
  // belay mcp facing the suite over HTTPS; its upstream after the listen address.
  const proxy = (name: string, port: number, upstream: string[]) =>
    startBackground(name, process.execPath, [
      main,
      'mcp',
      '--gateway',
      `https://127.0.0.1:${ports.gateway}`,
      '--ca',
      path.join(dir, 'gateway-tls', 'ca.crt'),
      '--token-file',
      path.join(dir, 'agent-token'),
      '--tls-dir',
      path.join(dir, 'proxy-tls'),
      '--log-level',
      'warn',
      '--listen',
      `127.0.0.1:${port}`,
      ...upstream,
    ]);
  const viaStdio = proxy('mcp-proxy-stdio-upstream', ports.viaStdio, ['--', process.execPath, reference, '--stdio']);
  const viaHttp = proxy('mcp-proxy-http-upstream', ports.viaHttp, ['--upstream-url', `http://127.0.0.1:${ports.reference}/mcp`]);
  started.push(viaStdio, viaHttp);
  await waitListening(viaStdio, ports.viaStdio);
  await waitListening(viaHttp, ports.viaHttp);
}, 180_000);

afterAll(async () => {
  for (const p of started.splice(0).reverse()) await p.stop();
});

function gatewayMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(`https://127.0.0.1:${ports.gateway}/metrics`, { ca: readFileSync(path.join(dir, 'gateway-tls', 'ca.crt')) }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      })
      .on('error', reject);
  });
}

const sum = (metrics: string, re: RegExp) =>
  metrics
    .split('\n')
    .filter((l) => re.test(l))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('transparency (allow-everything bundle)', () => {
  it('gives the same conformance results directly and through belay mcp', async () => {
    const proxyCa = path.join(dir, 'proxy-tls', 'ca.crt');
    const direct = await runConformance(`http://127.0.0.1:${ports.reference}/mcp`, path.join(dir, 'direct'));
    const viaStdio = await runConformance(`https://127.0.0.1:${ports.viaStdio}/mcp`, path.join(dir, 'via-stdio'), proxyCa);
    const viaHttp = await runConformance(`https://127.0.0.1:${ports.viaHttp}/mcp`, path.join(dir, 'via-http'), proxyCa);
    const table = comparison({ direct, 'belay mcp → stdio server': viaStdio, 'belay mcp → HTTP server': viaHttp });
    writeFileSync(path.join(dir, 'comparison.md'), table);
    process.stdout.write(`\n${table}\n`);

    // The reference server is complete: every check passes directly, so "the same" cannot mean "all failing alike".
    const failing = Object.entries(direct).filter(([, checks]) => checks.some((c) => c.status !== 'SUCCESS'));
    expect(failing).toEqual([]);
    expect(Object.keys(direct).length).toBeGreaterThanOrEqual(30);
    expect(viaStdio).toEqual(direct);
    expect(viaHttp).toEqual(direct);

    // belay was in the path: the calls and their results were evaluated by the gateway.
    const m = await gatewayMetrics();
    expect(sum(m, /^belay_decisions_total\{[^}]*face="toolcall"/)).toBeGreaterThan(20);
    expect(sum(m, /^belay_decisions_total\{[^}]*face="toolresult"/)).toBeGreaterThan(10);
  }, 600_000);
});

function comparison(runs: Record<string, ConformanceResults>): string {
  const names = Object.keys(runs);
  const per = Object.fromEntries(names.map((n) => [n, counts(runs[n]!)]));
  const scenarios = [...new Set(names.flatMap((n) => Object.keys(per[n]!)))].sort();
  const total = (n: string) => {
    const all = Object.values(runs[n]!).flat();
    return `${all.filter((c) => c.status === 'SUCCESS').length}/${all.length}`;
  };
  return [
    `| scenario (checks passed/total) | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...scenarios.map((s) => `| ${s} | ${names.map((n) => per[n]![s] ?? '–').join(' | ')} |`),
    `| **total** | ${names.map(total).join(' | ')} |`,
  ].join('\n');
}
