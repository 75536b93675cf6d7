// The latency an agent's `kubectl apply` sees on a real control plane (the
// bench's own, bench/cluster.ts), without a webhook, with belay's mutating and
// validating webhooks registered from manifests/ (pointed at a local
// gateway), and with Gatekeeper's validating webhook instead.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { tlsPaths } from '../src/tls/devcerts.js';
import { type ControlPlane, run } from './cluster.js';
import type { Gatekeeper } from './gatekeeper.js';
import { percentiles } from './stats.js';
import { type Paths, post } from './targets.js';

export interface KubectlBenchOptions {
  root: string;
  paths: Paths;
  say: (msg: string) => void;
  cluster: ControlPlane;
  /** Also measured with Gatekeeper's validating webhook registered instead of belay's. */
  gatekeeper?: Gatekeeper;
  iterations?: number;
}

export interface KubectlLatency {
  table: string;
  /** API request p50 ms: without any webhook (both runs), with belay's two, with Gatekeeper's. */
  withoutP50: number;
  belayP50: number;
  gatekeeperP50: number | null;
}

const AGENT = 'system:serviceaccount:agents:remediator';

function deployment(i: number): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'bench-web',
      namespace: 'team-a',
      // owner: what the Gatekeeper comparison's required-labels Constraint asks for.
      labels: { app: 'bench-web', owner: 'bench' },
      annotations: {
        'belay.dev/workflow': 'image-refresh-v1',
        'belay.dev/confidence': '0.95',
        'belay.dev/remediation-target': 'Deployment/bench-web',
        'belay.dev/rationale': 'refresh the image after a base-image CVE fix',
        'bench/iteration': String(i),
      },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'bench-web' } },
      template: {
        metadata: { labels: { app: 'bench-web' } },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image: 'registry.example.com/shop/web:1.2.3',
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                runAsNonRoot: true,
                runAsUser: 10001,
                capabilities: { drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              },
            },
          ],
        },
      },
    },
  });
}

/**
 * manifests/ as shipped, except what only works inside a cluster: the
 * webhooks call the local gateway (with the bench CA) instead of the
 * in-cluster Service, and belay's own Deployment, Service and PDB are left out.
 */
async function localManifests(kubectl: string, manifests: string, origin: string, caFile: string): Promise<{ all: string; webhooks: string }> {
  const r = await run(kubectl, ['kustomize', manifests]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${manifests} failed: ${r.stderr}`);
  const caBundle = readFileSync(caFile).toString('base64');
  type Obj = {
    kind?: string;
    metadata?: { namespace?: string };
    webhooks?: { clientConfig: { service?: { path?: string }; url?: string; caBundle?: string } }[];
  };
  const docs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null && !(['Deployment', 'Service', 'PodDisruptionBudget'].includes(d.kind ?? '') && d.metadata?.namespace === 'belay'));
  const isWebhook = (d: Obj) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration';
  for (const d of docs.filter(isWebhook)) {
    for (const w of d.webhooks ?? []) w.clientConfig = { url: `${origin}${w.clientConfig.service?.path ?? '/validate'}`, caBundle };
  }
  const yaml = (ds: Obj[]) => ds.map((d) => stringify(d)).join('---\n');
  return { all: yaml(docs.filter((d) => !isWebhook(d))), webhooks: yaml(docs.filter(isWebhook)) };
}

/** The write request's time from `kubectl -v=6` (both the klog text and the structured form). */
function apiMillis(stderr: string): number {
  const structured = /verb="(?:PATCH|POST|PUT)"[^\n]*?milliseconds=(\d+)/.exec(stderr);
  if (structured) return Number(structured[1]);
  const text = /(?:PATCH|POST|PUT) https:\/\/\S+ \d{3}[^\n]* in (\d+) milliseconds/.exec(stderr);
  return text ? Number(text[1]) : Number.NaN;
}

interface Sample {
  wallMs: number;
  apiMs: number;
  ok: boolean;
  message: string;
}

export async function kubectlLatency(options: KubectlBenchOptions): Promise<KubectlLatency> {
  const { root, paths, say, cluster } = options;
  const n = options.iterations ?? 30;
  const kubectl = path.join(root, '.tools/bin/kubectl');
  const k = cluster.kubectl;
  let gateway: ChildProcess | undefined;
  try {
    const ns = await k(['apply', '-f', path.join(root, 'e2e/fixtures/namespaces.yaml')]);
    if (ns.code !== 0) throw new Error(`namespaces: ${ns.stderr}`);

    const measure = async (label: string): Promise<Sample[]> => {
      const out: Sample[] = [];
      for (let i = 0; i < n + 3; i++) {
        const r = await k(['--as', AGENT, 'apply', '--server-side', '--field-manager=bench', '-v=6', '-f', '-'], deployment(i));
        if (i >= 3)
          out.push({
            wallMs: r.ms,
            apiMs: apiMillis(r.stderr),
            ok: r.code === 0,
            message:
              r.code === 0
                ? ''
                : r.stderr
                    .split('\n')
                    .filter((l) => !/^I\d{4}/.test(l))
                    .join(' ')
                    .replace(/\s+/g, ' ')
                    .slice(0, 400),
          });
      }
      say(`kubectl: ${label}: ${out.filter((s) => s.ok).length}/${out.length} applied`);
      return out;
    };

    const without = await measure('without a webhook');

    const origin = `https://127.0.0.1:${cluster.gatewayPort}`;
    const manifests = await localManifests(kubectl, path.join(root, 'manifests'), origin, tlsPaths(paths.tlsDir).caCert);
    const base = await k(['apply', '-f', '-'], manifests.all);
    if (base.code !== 0) throw new Error(`applying manifests/ failed: ${base.stderr}`);
    await k(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);

    // belay as the API server reaches it, with its in-cluster identity.
    const log = path.join(paths.logs, 'belay-kubectl.log');
    mkdirSync(paths.logs, { recursive: true });
    const fd = openSync(log, 'w');
    gateway = spawn(
      process.execPath,
      [
        path.join(root, 'dist/webhook/main.js'),
        '--listen',
        `127.0.0.1:${cluster.gatewayPort}`,
        '--bundle',
        paths.bundle,
        '--tls-dir',
        paths.tlsDir,
        '--kubeconfig',
        path.join(cluster.dir, 'belay.kubeconfig'),
      ],
      { cwd: root, stdio: ['ignore', 'ignore', fd] },
    );
    closeSync(fd);
    const ca = readFileSync(tlsPaths(paths.tlsDir).caCert);
    for (let i = 0; ; i++) {
      if ((await post(`${origin}/readyz`, '', ca, 'GET').catch(() => ({ status: 0 }))).status === 200) break;
      if (i > 300 || gateway.exitCode !== null) throw new Error(`belay did not start; see ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const configs = manifests.webhooks;
    const reg = await k(['apply', '-f', '-'], configs);
    if (reg.code !== 0) throw new Error(`registering the webhooks failed: ${reg.stderr}`);
    // The API server picks webhook configurations up from a watch; wait until belay answers.
    for (let i = 0; ; i++) {
      const metrics = await post(`${origin}/metrics`, '', ca, 'GET');
      if (/belay_requests_total\{[^}]*face="(?:validate|mutate)"/.test(metrics.body)) break;
      await k(['--as', AGENT, 'apply', '--server-side', '--field-manager=bench', '--dry-run=server', '-f', '-'], deployment(0));
      if (i > 60) throw new Error('the API server never called belay');
      await new Promise((r) => setTimeout(r, 250));
    }
    const withBelay = await measure('with belay');
    await k(['delete', '-f', '-', '--ignore-not-found'], configs);
    // The API server drops the webhooks from its watch; wait until it stops calling belay.
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await measure('without a webhook, again');

    let withGatekeeper: Sample[] | null = null;
    const gk = options.gatekeeper;
    if (gk) {
      const r = await k(['apply', '-f', '-'], gk.webhookConfiguration);
      if (r.code !== 0) throw new Error(`registering Gatekeeper's webhook failed: ${r.stderr}`);
      // Registered once the API server refuses what the required-labels Constraint refuses.
      const unlabelled = deployment(0).replace(/\n {4}owner: bench\n/, '\n');
      for (let i = 0; ; i++) {
        const probe = await k(['--as', AGENT, 'apply', '--server-side', '--field-manager=bench', '--dry-run=server', '-f', '-'], unlabelled);
        if (probe.code !== 0 && /owner/.test(probe.stderr)) break;
        if (i > 60) throw new Error(`the API server never called Gatekeeper (last answer: ${probe.stderr.trim() || 'allowed'})`);
        await new Promise((r) => setTimeout(r, 250));
      }
      withGatekeeper = await measure('with Gatekeeper');
      await k(['delete', '-f', '-', '--ignore-not-found'], gk.webhookConfiguration);
    }

    const stats = (s: Sample[]) => ({
      wall: percentiles(Float64Array.from(s.map((x) => x.wallMs))),
      api: percentiles(Float64Array.from(s.map((x) => x.apiMs).filter(Number.isFinite))),
    });
    const row = (label: string, s: Sample[]) => {
      const { wall, api } = stats(s);
      return `| ${label} | ${s.filter((x) => x.ok).length}/${s.length} | ${api.p50.toFixed(0)} | ${api.p90.toFixed(0)} | ${api.max.toFixed(0)} | ${wall.p50.toFixed(0)} | ${wall.p90.toFixed(0)} |`;
    };
    const refused = [...withBelay, ...(withGatekeeper ?? [])].find((s) => !s.ok);
    const table = [
      '## kubectl apply latency on the local control plane',
      '',
      `${n} server-side applies of one Deployment (an update each time) as the agent (admin impersonating ${AGENT}), kubectl -v=6 timing the API request (whole milliseconds) and the whole kubectl run.`,
      '',
      '| | applied | API request p50 ms | p90 ms | max ms | kubectl run p50 ms | p90 ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
      row('without a webhook', without),
      row('with belay (mutating + validating)', withBelay),
      row('without a webhook, again', after),
      ...(withGatekeeper ? [row('with Gatekeeper (validating)', withGatekeeper)] : []),
      ...(refused ? ['', `some applies were refused: ${refused.message}`] : []),
    ].join('\n');
    return {
      table,
      withoutP50: stats([...without, ...after]).api.p50,
      belayP50: stats(withBelay).api.p50,
      gatekeeperP50: withGatekeeper ? stats(withGatekeeper).api.p50 : null,
    };
  } finally {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway!.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
  }
}
