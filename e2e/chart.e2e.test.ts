// The Helm chart against the real API server, no gateway running:
//
// - every golden rendering (manifests/helm/testdata/golden) is accepted by
//   `kubectl apply --dry-run=server`, cert-manager's CRDs and
//   prometheus-operator's PrometheusRule CRD (from the Go module proxy,
//   pinned) installed first, so Certificates, Issuers and the alerts are
//   checked against their real schemas and every CEL matchCondition is compiled;
// - `helm install` / `helm upgrade` / `helm uninstall` of a second release
//   (its own agents group, so no other test's requests reach it): the API
//   server sends exactly that group's requests to it (failing closed, as no
//   gateway runs), an upgrade keeps the webhook configurations (same uid) and
//   the caBundle belay's certificate controller writes, and uninstall deletes
//   every webhook configuration before the Deployment and the Service —
//   checked on the storage's own order (resourceVersions of the DELETED
//   events) — leaving nothing that fails closed.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ns, paths, runId } from './harness/env.js';
import { admin, getObject, kubectl, transcribe, transcriptSection } from './harness/kubectl.js';
import { configMap } from './harness/objects.js';
import { run, runOk } from './harness/proc.js';

/** cert-manager release whose CRDs the cert-manager renderings are checked against. */
const CERT_MANAGER = 'github.com/cert-manager/cert-manager@v1.21.2';
const CERT_MANAGER_CRDS = ['cert-manager.io_certificates.yaml', 'cert-manager.io_issuers.yaml', 'cert-manager.io_clusterissuers.yaml'];
/** prometheus-operator release whose PrometheusRule CRD the chart's alerts are checked against. */
const PROMETHEUS_OPERATOR = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';
const PROMETHEUS_RULE_CRD = 'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml';

const goldenDir = path.join(paths.root, 'manifests', 'helm', 'testdata', 'golden');

async function helm(args: string[], note?: string) {
  const r = await run(paths.helm, ['--kubeconfig', paths.kubeconfig, '--kube-context', 'admin', ...args], { timeoutMs: 180_000 });
  transcribe({ ...r, command: ['helm', ...args].join(' ') }, note ? { note } : {});
  return r;
}

beforeAll(() => {
  if (!existsSync(paths.helm)) throw new Error(`${paths.helm} is missing: run make helm`);
});

describe('golden renderings on the API server (server-side dry run)', () => {
  let crdFiles: string[] = [];

  beforeAll(async () => {
    transcriptSection('Helm chart: golden renderings, kubectl apply --dry-run=server');
    const dl = await runOk('go', ['mod', 'download', '-json', CERT_MANAGER], { cwd: tmpdir(), timeoutMs: 300_000 });
    const dir = (JSON.parse(dl.stdout) as { Dir: string }).Dir;
    const promDl = await runOk('go', ['mod', 'download', '-json', PROMETHEUS_OPERATOR], { cwd: tmpdir(), timeoutMs: 300_000 });
    const promDir = (JSON.parse(promDl.stdout) as { Dir: string }).Dir;
    crdFiles = [...CERT_MANAGER_CRDS.map((f) => path.join(dir, 'deploy', 'crds', f)), path.join(promDir, PROMETHEUS_RULE_CRD)];
    await admin(['apply', '--server-side', ...crdFiles.flatMap((f) => ['-f', f])], undefined, { quiet: true });
    await admin([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd/certificates.cert-manager.io',
      'crd/issuers.cert-manager.io',
      'crd/prometheusrules.monitoring.coreos.com',
    ]);
  }, 300_000);

  afterAll(async () => {
    if (crdFiles.length) await kubectl('admin', ['delete', '--ignore-not-found', '--wait=false', ...crdFiles.flatMap((f) => ['-f', f])], { quiet: true });
  });

  const goldens = readdirSync(goldenDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it.each(goldens)('accepts every object of %s', async (file) => {
    const text = readFileSync(path.join(goldenDir, file), 'utf8');
    const docs = parseAllDocuments(text).filter((d) => d.toJS() !== null);
    const r = await kubectl('admin', ['apply', '--dry-run=server', '-f', path.join(goldenDir, file)], { note: `golden ${file}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error|invalid|unknown field/i);
    const accepted = r.stdout.split('\n').filter((l) => l.endsWith('(server dry run)'));
    expect(accepted).toHaveLength(docs.length);
  });
});

describe('helm install, upgrade and uninstall', () => {
  const release = `belay-e2e-${runId}`;
  const namespace = release;
  const agentsGroup = `belay-e2e:chart-agents-${runId}`;
  const configs = [
    ['mutatingwebhookconfiguration', release],
    ['validatingwebhookconfiguration', release],
    ['mutatingwebhookconfiguration', `${release}-approvals`],
    ['validatingwebhookconfiguration', `${release}-approvals`],
  ] as const;
  const valuesFile = path.join(paths.out, `chart-${runId}.values.yaml`);
  const values = {
    agents: { serviceAccountNamespaces: [], groups: [agentsGroup] },
    approverGroups: ['belay-e2e:chart-approvers'],
    crds: { install: false }, // the suite's install owns approvalrequests.belay.dev
  };
  const asChartAgent = ['--as', 'chart-bot', '--as-group', agentsGroup];

  /** (No controller-manager aggregates the edit ClusterRole here, so a Role of its own.) */
  async function grantConfigMaps(namespace: string): Promise<void> {
    await admin(['create', 'role', `chart-agents-${runId}`, '-n', namespace, '--verb=create,get', '--resource=configmaps']);
    await admin(['create', 'rolebinding', `chart-agents-${runId}`, '-n', namespace, `--role=chart-agents-${runId}`, `--group=${agentsGroup}`]);
  }

  beforeAll(async () => {
    transcriptSection(`Helm chart: install, upgrade and uninstall of release ${release}`);
    mkdirSync(paths.out, { recursive: true });
    writeFileSync(valuesFile, stringify(values));
    // RBAC lets the release's agents write ConfigMaps in team-a: belay, not RBAC, is what stops them.
    await grantConfigMaps(ns.dev);
  });

  afterAll(async () => {
    // Whatever happened above, nothing of this release may keep failing closed.
    await run(paths.helm, ['--kubeconfig', paths.kubeconfig, '--kube-context', 'admin', 'uninstall', release, '-n', namespace, '--no-hooks']);
    for (const kind of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) {
      await kubectl('admin', ['delete', kind, '-l', `app.kubernetes.io/instance=${release}`, '--ignore-not-found'], { quiet: true });
    }
    await kubectl('admin', ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'], { quiet: true });
    await kubectl('admin', ['delete', 'role,rolebinding', `chart-agents-${runId}`, '-n', ns.dev, '--ignore-not-found'], { quiet: true });
  });

  it('installs with helm install, and the API server sends exactly the chart’s agents to the release', async () => {
    const r = await helm(['install', release, paths.chart, '-n', namespace, '--create-namespace', '-f', valuesFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`belay 0.1.0 is installed as ${release} in namespace ${namespace}`);
    for (const [kind, name] of configs) expect(await getObject([kind, name]), `${kind}/${name}`).toBeDefined();
    const deployment = await getObject<{ spec: { replicas: number } }>(['deployment', release], namespace);
    expect(deployment?.spec.replicas).toBe(3);

    // An agent of this release's group: its webhooks are called, and with no
    // gateway behind them the write fails closed.
    const refused = await kubectl('admin', [...asChartAgent, 'create', 'configmap', `chart-agent-${runId}`, '-n', ns.dev, '--from-literal=a=b']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/failed calling webhook "mutate\.belay\.dev"/);
    expect(refused.stderr).toContain(release);
    expect(await getObject(['configmap', `chart-agent-${runId}`], ns.dev)).toBeUndefined();
    // Everyone else is never sent to it.
    const human = await kubectl('bob', ['apply', '-f', '-'], { stdin: configMap({ name: `chart-human-${runId}`, namespace: ns.dev }) });
    expect(human.code, human.stderr).toBe(0);
    // Its excluded namespaces: kube-system and its own.
    await grantConfigMaps(namespace);
    const inOwn = await kubectl('admin', [...asChartAgent, 'create', 'configmap', `chart-own-${runId}`, '-n', namespace, '--from-literal=a=b']);
    expect(inOwn.code, inOwn.stderr).toBe(0);
  });

  it('upgrades in place: same webhook configurations, the certificate controller’s caBundle kept, the new values applied', async () => {
    const before = await getObject<{ metadata: { uid: string } }>(['validatingwebhookconfiguration', release]);
    // What belay's certificate controller does in TLS mode self: write its CA into the caBundle.
    const caBundle = Buffer.from(readFileSync(path.join(paths.tls, 'ca.crt'))).toString('base64');
    await admin([
      'patch',
      'validatingwebhookconfiguration',
      release,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: caBundle }]),
    ]);
    const podBefore = await getObject<{ spec: { template: { metadata: { annotations: Record<string, string> } } } }>(['deployment', release], namespace);

    const r = await helm([
      'upgrade',
      release,
      paths.chart,
      '-n',
      namespace,
      '-f',
      valuesFile,
      '--set',
      'webhooks.validating.timeoutSeconds=7',
      '--set-json',
      `agents.groups=["${agentsGroup}","belay-e2e:more-agents"]`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const after = await getObject<{
      metadata: { uid: string };
      webhooks: Array<{ timeoutSeconds: number; clientConfig: { caBundle?: string }; matchConditions: Array<{ name: string; expression: string }> }>;
    }>(['validatingwebhookconfiguration', release]);
    expect(after?.metadata.uid).toBe(before?.metadata.uid);
    expect(after?.webhooks[0]?.timeoutSeconds).toBe(7);
    expect(after?.webhooks[0]?.clientConfig.caBundle).toBe(caBundle);
    expect(after?.webhooks[0]?.matchConditions.find((c) => c.name === 'agents')?.expression).toContain('belay-e2e:more-agents');
    // New agents roll the replicas (the overlay's checksum), in step with the matchConditions.
    const podAfter = await getObject<typeof podBefore>(['deployment', release], namespace);
    expect(podAfter?.spec.template.metadata.annotations['checksum/config']).not.toBe(podBefore?.spec.template.metadata.annotations['checksum/config']);
  });

  it('uninstalls the webhook configurations before the gateway, and leaves nothing failing closed', async () => {
    const watchers = [
      watch(['validatingwebhookconfigurations']),
      watch(['mutatingwebhookconfigurations']),
      watch(['deployments', '-n', namespace]),
      watch(['services', '-n', namespace]),
    ];
    await new Promise((r) => setTimeout(r, 1_500)); // the watches are established
    const r = await helm(['uninstall', release, '-n', namespace, '--wait', '--timeout', '60s']);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const events = (await Promise.all(watchers.map((w) => w.stop()))).flat();
    transcribe({
      command: '(watch events during helm uninstall)',
      code: 0,
      stdout: events.map((e) => `${e.type} ${e.kind} ${e.name} rv=${e.rv}`).join('\n'),
      stderr: '',
    });

    const deleted = (kind: string, name: string) => events.filter((e) => e.type === 'DELETED' && e.kind === kind && e.name === name).map((e) => e.rv);
    const webhookDeletions = configs.flatMap(([kind, name]) => {
      const rvs = deleted(`${kind}s`, name);
      expect(rvs.length, `${kind}/${name} deleted`).toBeGreaterThan(0);
      return rvs;
    });
    const [deployment] = deleted('deployments', release);
    const [service] = deleted('services', release);
    expect(deployment).toBeDefined();
    expect(service).toBeDefined();
    // kine orders every write in one sequence: every webhook configuration
    // (and its placeholder) was gone before the gateway's objects went.
    expect(Math.max(...webhookDeletions)).toBeLessThan(Math.min(deployment!, service!));

    for (const [kind, name] of configs) expect(await getObject([kind, name]), `${kind}/${name}`).toBeUndefined();
    const list = await admin([
      'get',
      'mutatingwebhookconfigurations,validatingwebhookconfigurations',
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '-o',
      'name',
    ]);
    expect(list.trim()).toBe('');
    // Its agents are no longer refused by a webhook pointing at nothing.
    const agent = await kubectl('admin', [...asChartAgent, 'create', 'configmap', `chart-after-${runId}`, '-n', ns.dev, '--from-literal=a=b']);
    expect(agent.code, agent.stderr).toBe(0);
  });
});

interface WatchEvent {
  type: string;
  kind: string;
  name: string;
  rv: number;
}

/** `kubectl get --watch-only` of one resource; stop() ends it and returns what it saw. */
function watch(args: string[]): { stop(): Promise<WatchEvent[]> } {
  const child: ChildProcess = spawn(
    paths.kubectl,
    [
      '--kubeconfig',
      paths.kubeconfig,
      '--context',
      'admin',
      'get',
      ...args,
      '--watch-only',
      '--output-watch-events',
      '-o',
      'jsonpath={.type} {.object.metadata.name} {.object.metadata.resourceVersion}{"\\n"}',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [type = '', name = '', rv = '0'] = line.split(' ');
          return { type, kind: args[0]!, name, rv: Number(rv) };
        });
    },
  };
}
