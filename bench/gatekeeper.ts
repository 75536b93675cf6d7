// Gatekeeper beside belay, configured the way its own deploy/gatekeeper.yaml
// runs the webhook pod, with what a bench on one machine must change:
//
// - the manager is built from the Go module proxy at the version gator is
//   (policy-tests/oracles/build.sh gatekeeper: .tools/bin/gatekeeper, and the
//   module's deploy/gatekeeper.yaml in .tools/share/gatekeeper/);
// - its CRDs are that file's CustomResourceDefinitions, applied to the bench's
//   control plane (bench/cluster.ts), with the gatekeeper-system namespace;
// - one process, outside a pod (--debug-use-fake-pod), with the webhook pod's
//   flags (--operation=webhook, --exempt-namespace=gatekeeper-system,
//   --disable-opa-builtin={http.send}) plus --operation=generate, which the
//   audit pod normally runs and which makes the Constraint CRDs from the
//   templates: no audit (the audit operation is not run), no status operation,
//   no mutation; its own caches as shipped (constraint and template
//   informers, the sync of data.inventory from the Config);
// - serving on https://127.0.0.1:PORT with the bench's certificate from its
//   CA (--cert-dir, --disable-cert-rotation), health and metrics on loopback;
// - the ConstraintTemplates, Constraints and sync Config belay's bundle
//   carries (policies/gatekeeper/), with `enforcementAction: defer` (belay's
//   own) as `deny`, Gatekeeper having no approvals.
//
// The bench calls its /v1/admit with the same AdmissionReviews it sends belay,
// and registers its validating webhook (as deploy/gatekeeper.yaml has it,
// pointed at the URL) for the kubectl latency.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { tlsPaths } from '../src/tls/devcerts.js';
import type { ControlPlane } from './cluster.js';
import { freePort, type Paths, post, type Server, stopper } from './targets.js';

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };

export interface GatekeeperFiles {
  binary: string;
  version: string;
  /** The module's deploy/gatekeeper.yaml. */
  deploy: string;
}

export function gatekeeperFiles(root: string): GatekeeperFiles | null {
  const binary = path.join(root, '.tools/bin/gatekeeper');
  const deploy = path.join(root, '.tools/share/gatekeeper/gatekeeper.yaml');
  if (!existsSync(binary) || !existsSync(deploy)) return null;
  return { binary, deploy, version: readFileSync(path.join(root, '.tools/bin/.gatekeeper.version'), 'utf8').trim() };
}

const docsOf = (text: string): Doc[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null && typeof d === 'object');

/** What kubectl applies: JSON (a YAML round trip would print "yes" bare, which kubectl reads as a boolean). */
const list = (docs: Doc[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });

/**
 * policies/gatekeeper/ for the comparison: with `namespaces`, every Constraint
 * matches those namespaces too (the bench's mix has none named gk-*, which is
 * all the shipped Constraints match); for Gatekeeper, `defer` becomes `deny`.
 */
export function gatekeeperPolicies(
  dir: string,
  options: { namespaces?: readonly string[]; deferAsDeny?: boolean } = {},
): { templates: Doc[]; rest: Doc[]; yaml: string } {
  const namespaces = options.namespaces ?? [];
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .flatMap((f) => docsOf(readFileSync(path.join(dir, f), 'utf8')));
  for (const d of docs) {
    if (d.kind === 'ConstraintTemplate' || d.kind === 'Config' || !d.spec) continue;
    if (options.deferAsDeny && d.spec.enforcementAction === 'defer') d.spec.enforcementAction = 'deny';
    const match = d.spec.match as { namespaces?: string[] } | undefined;
    if (match?.namespaces && namespaces.length) match.namespaces = [...match.namespaces, ...namespaces.filter((n) => !match.namespaces!.includes(n))];
  }
  return {
    templates: docs.filter((d) => d.kind === 'ConstraintTemplate'),
    rest: docs.filter((d) => d.kind !== 'ConstraintTemplate'),
    yaml: docs.map((d) => stringify(d)).join('---\n'),
  };
}

export interface Gatekeeper extends Server {
  readonly version: string;
  readonly flags: readonly string[];
  /** Gatekeeper's validating webhook configuration, pointed at this process (for kubectl apply). */
  readonly webhookConfiguration: string;
}

export interface GatekeeperOptions {
  root: string;
  paths: Paths;
  cluster: ControlPlane;
  files: GatekeeperFiles;
  /** Namespaces to create (Gatekeeper looks each request's namespace up) and to match. */
  namespaces: readonly string[];
  say: (msg: string) => void;
}

async function must(what: string, p: Promise<{ code: number; stderr: string }>): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim()}`);
}

export async function startGatekeeper(o: GatekeeperOptions): Promise<Gatekeeper> {
  const { cluster, files, paths } = o;
  const deploy = docsOf(readFileSync(files.deploy, 'utf8'));
  const crds = deploy.filter((d) => d.kind === 'CustomResourceDefinition');
  await must('applying Gatekeeper CRDs', cluster.kubectl(['apply', '--server-side', '-f', '-'], list(crds)));
  await must('waiting for Gatekeeper CRDs', cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'gatekeeper.sh/system=yes']));
  const namespaces = ['gatekeeper-system', 'gk-bench', ...o.namespaces].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  await must('creating namespaces', cluster.kubectl(['apply', '-f', '-'], list(namespaces)));

  const [port, health, prometheus] = [await freePort(), await freePort(), await freePort()];
  const tls = tlsPaths(paths.tlsDir);
  // --cert-dir holds tls.crt and tls.key: the bench's own directory has exactly those names.
  if (path.basename(tls.cert) !== 'tls.crt' || path.basename(tls.key) !== 'tls.key') throw new Error('the bench TLS directory must hold tls.crt and tls.key');
  const flags = [
    `--port=${port}`,
    '--host=127.0.0.1',
    `--cert-dir=${paths.tlsDir}`,
    '--disable-cert-rotation',
    `--health-addr=127.0.0.1:${health}`,
    '--metrics-addr=0',
    `--prometheus-port=${prometheus}`,
    '--operation=webhook',
    '--operation=generate',
    '--exempt-namespace=gatekeeper-system',
    '--disable-opa-builtin={http.send}',
    '--debug-use-fake-pod',
    '--logtostderr',
  ];
  mkdirSync(paths.logs, { recursive: true });
  const log = path.join(paths.logs, 'gatekeeper.log');
  const fd = openSync(log, 'w');
  const child: ChildProcess = spawn(files.binary, [`--kubeconfig=${cluster.kubeconfig}`, ...flags], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, POD_NAMESPACE: 'gatekeeper-system', POD_NAME: 'gatekeeper-bench', NAMESPACE: 'gatekeeper-system', CONTAINER_NAME: 'manager' },
  });
  closeSync(fd);
  const stop = stopper(child);
  const origin = `https://127.0.0.1:${port}`;
  const ca = readFileSync(tls.caCert);
  try {
    const until = Date.now() + 120_000;
    const wait = async (what: string, ok: () => Promise<boolean>) => {
      while (!(await ok().catch(() => false))) {
        if (child.exitCode !== null) throw new Error(`Gatekeeper exited (${child.exitCode}); see ${log}`);
        if (Date.now() > until) throw new Error(`Gatekeeper: ${what} took over 2 minutes; see ${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const readyz = async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200;
    await wait('ready', readyz);
    // Templates first: Gatekeeper makes each Constraint kind's CRD from its template.
    const { templates, rest } = gatekeeperPolicies(path.join(o.root, 'policies/gatekeeper'), { namespaces: o.namespaces, deferAsDeny: true });
    await must('applying the ConstraintTemplates', cluster.kubectl(['apply', '-f', '-'], list(templates)));
    await wait('making the Constraint CRDs', async () => (await cluster.kubectl(['apply', '-f', '-'], list(rest))).code === 0);
    // Loaded when a Deployment over the replica limit is refused.
    const probe = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'probe',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: 'probe',
        namespace: 'gk-bench',
        operation: 'CREATE',
        userInfo: { username: 'bench' },
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'probe', namespace: 'gk-bench', labels: { owner: 'bench' } },
          spec: { replicas: 99 },
        },
      },
    });
    await wait('loading the Constraints', async () => {
      const a = await post(`${origin}/v1/admit`, probe, ca);
      return a.status === 200 && (JSON.parse(a.body) as { response?: { allowed?: boolean } }).response?.allowed === false;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const config = deploy.find((d) => d.kind === 'ValidatingWebhookConfiguration' && d.metadata?.name === 'gatekeeper-validating-webhook-configuration');
  if (!config) throw new Error(`${files.deploy} has no gatekeeper-validating-webhook-configuration`);
  type Hook = { name: string; clientConfig: { url?: string; caBundle?: string; service?: { path?: string } } };
  // The validation webhook only: the namespace-label check guards Gatekeeper's own exemption label.
  const hooks = ((config as { webhooks?: Hook[] }).webhooks ?? []).filter((w) => w.name === 'validation.gatekeeper.sh');
  for (const w of hooks) w.clientConfig = { url: `${origin}${w.clientConfig.service?.path ?? '/v1/admit'}`, caBundle: ca.toString('base64') };
  o.say(`Gatekeeper ${files.version} serving ${origin} (log ${path.relative(o.root, log)})`);
  return {
    name: 'gatekeeper',
    origin,
    pid: child.pid!,
    version: files.version,
    flags,
    webhookConfiguration: list([{ ...config, webhooks: hooks }]),
    stop,
  };
}
