// The Helm chart (manifests/helm/belay) rendered with the pinned helm (make
// helm): `helm lint --strict` and golden `helm template` renderings of the
// main value combinations (testdata/values → testdata/golden; UPDATE_GOLDEN=1
// rewrites them), what every rendering must hold whatever the golden says
// (agents from one place, the gateway's security context, TLS wiring, the
// uninstall hooks), the values it must refuse, belay's own policy on its
// objects, and the kustomize tree rendered from it being current.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseNotifyConfig } from '../../src/notify/config.js';
import { Metrics } from '../../src/observe/metrics.js';
import { chartDir, helmBin, root, staleFiles } from './kustomize.js';

const here = path.join(root, 'manifests', 'helm');
const valuesDir = path.join(here, 'testdata', 'values');
const goldenDir = path.join(here, 'testdata', 'golden');
const cases = readdirSync(valuesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

const RELEASE = 'belay';
const NAMESPACE = 'belay';
const GATEWAY_USER = `system:serviceaccount:${NAMESPACE}:belay`;

// Rendered Kubernetes objects, checked field by field.
type Obj = Record<string, any>;

interface Helm {
  code: number;
  stdout: string;
  stderr: string;
}

function helm(args: string[]): Helm {
  const r = spawnSync(helmBin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function template(valuesFile: string, extra: string[] = []): Helm {
  return helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, '-f', valuesFile, ...extra]);
}

function objects(rendered: string): Obj[] {
  return parseAllDocuments(rendered)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const isHook = (o: Obj) => o.metadata?.annotations?.['helm.sh/hook'] !== undefined;
const WEBHOOK_KINDS = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

/** The CEL of a webhook's or authorizer's `agents` condition, with admission's variable names. */
function admissionAgents(o: Obj): string[] {
  return (o.webhooks ?? []).flatMap((w: Obj) => (w.matchConditions ?? []).filter((c: Obj) => c.name === 'agents').map((c: Obj) => c.expression as string));
}

beforeAll(() => {
  if (!existsSync(helmBin)) throw new Error(`${helmBin} is missing: run make helm (the pinned helm from the Go module proxy)`);
});

describe('the pinned helm', () => {
  it('is the version the Makefile pins', () => {
    const pinned = /^HELM_VERSION\s*\?=\s*(\S+)/m.exec(readFileSync(path.join(root, 'Makefile'), 'utf8'))?.[1];
    expect(pinned).toMatch(/^v3\.\d+\.\d+$/);
    expect(helm(['version', '--short']).stdout.trim()).toBe(pinned);
  });
});

describe.each(cases)('chart with values %s', (name) => {
  const valuesFile = path.join(valuesDir, `${name}.yaml`);
  const values = (parse(readFileSync(valuesFile, 'utf8')) ?? {}) as Obj;
  let rendered: string;
  let all: Obj[];
  let objs: Obj[];

  beforeAll(() => {
    const r = template(valuesFile);
    if (r.code !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
    rendered = r.stdout;
    all = objects(rendered);
    objs = all.filter((o) => !isHook(o));
  });

  it('passes helm lint --strict', () => {
    const r = helm(['lint', '--strict', chartDir, '--namespace', NAMESPACE, '-f', valuesFile]);
    expect(r.stdout + r.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.code).toBe(0);
  });

  it('renders the golden file', () => {
    const golden = path.join(goldenDir, `${name}.yaml`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, rendered);
    expect(existsSync(golden), `${golden} is missing; run UPDATE_GOLDEN=1 npx vitest run manifests/helm`).toBe(true);
    expect(rendered).toBe(readFileSync(golden, 'utf8'));
  });

  it('renders who is an agent from the one agents value into every matchCondition and the overlay', () => {
    const agents = { usernames: [], serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], ...(values.agents ?? {}) };
    const overlayCm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'belay-config');
    const overlay = JSON.parse(overlayCm?.data['overlay.json']);
    expect(overlay.agents).toEqual(agents);
    expect(overlay.approval.groups.global).toEqual(values.approverGroups ?? ['belay:approvers']);
    expect(overlay.tamper.namespaces).toEqual([NAMESPACE]);

    const authz = parse(objs.find((o) => o.metadata.name === 'belay-authorization')?.data['authorization-config.yaml']);
    const authzAgents: string = authz.authorizers[0].webhook.matchConditions[1].expression;
    const fromAuthz = authzAgents.replaceAll('request.user', 'request.userInfo.username').replaceAll('request.groups', 'request.userInfo.groups');
    const expressions = objs.filter((o) => WEBHOOK_KINDS.has(o.kind)).flatMap(admissionAgents);
    // validate, mutate and approvals-agents
    expect(expressions).toHaveLength(3);
    for (const e of expressions) expect(e).toBe(fromAuthz);

    const cel = expressions[0]!;
    for (const ns of agents.serviceAccountNamespaces) expect(cel).toContain(`startsWith(${JSON.stringify(`system:serviceaccount:${ns}:`)})`);
    for (const sa of agents.serviceAccounts as string[]) {
      const user = sa.startsWith('system:serviceaccount:') ? sa : `system:serviceaccount:${sa.replace(/[/:]/, ':')}`;
      expect(cel).toContain(JSON.stringify(user));
    }
    for (const u of agents.usernames) expect(cel).toContain(JSON.stringify(u));
    for (const g of agents.groups) expect(cel).toContain(JSON.stringify(g));
  });

  it('keeps the gateway out of its own webhooks and tells it who it is', () => {
    const deployment = objs.find((o) => o.kind === 'Deployment');
    const args: string[] = deployment?.spec.template.spec.containers[0].args;
    expect(args).toContain(`--gateway-user=${GATEWAY_USER}`);
    const notBelay = objs
      .filter((o) => WEBHOOK_KINDS.has(o.kind))
      .flatMap((o) => o.webhooks.flatMap((w: Obj) => (w.matchConditions ?? []).filter((c: Obj) => c.name === 'not-belay')));
    expect(notBelay.length).toBe(3);
    for (const c of notBelay) expect(c.expression).toBe(`request.userInfo.username != ${JSON.stringify(GATEWAY_USER)}`);
    for (const g of values.approverGroups ?? ['belay:approvers']) expect(args).toContain(`--approver-group=${g}`);
  });

  it('runs the gateway non-root, read-only, unprivileged, with probes on /healthz and /readyz', () => {
    const deployment = objs.find((o) => o.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    expect(deployment.spec.replicas).toBe(values.replicas ?? 3);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
    expect(c.command).toBeUndefined(); // the image's entrypoint, belay
    expect(c.args[0]).toBe('serve');
    // Every path the gateway writes is a volume: /tmp, the decision log's directory, the shipping spool.
    const writable = c.volumeMounts.filter((m: Obj) => !m.readOnly).map((m: Obj) => m.mountPath);
    const logsToFile = values.decisionLog?.destination === 'file';
    const ships = Boolean(values.decisionLog?.ship?.url);
    expect(writable.sort()).toEqual(['/tmp', ...(logsToFile ? ['/var/log/belay'] : []), ...(ships ? ['/var/spool/belay'] : [])]);
    expect(args(deployment).includes('--decision-log-spool=/var/spool/belay')).toBe(ships);
    expect(objs.some((o) => o.kind === 'PrometheusRule')).toBe(values.prometheusRule?.enabled === true);
    for (const v of pod.volumes) {
      const type = Object.keys(v).find((k) => k !== 'name');
      expect(['emptyDir', 'configMap', 'secret', 'persistentVolumeClaim', 'projected'], `volume ${v.name}`).toContain(type);
    }
    const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb !== undefined).toBe(values.podDisruptionBudget?.enabled ?? true);
    expect(args(deployment).includes('--no-console')).toBe(values.console?.enabled === false);
  });

  it('puts every namespaced object in the release namespace and excludes kube-system and it from admission', () => {
    for (const o of objs) {
      const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', ...WEBHOOK_KINDS].includes(o.kind);
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(clusterScoped ? undefined : NAMESPACE);
    }
    const admission = objs.filter((o) => WEBHOOK_KINDS.has(o.kind) && o.metadata.name === 'belay');
    expect(admission).toHaveLength(2);
    for (const o of admission) {
      const excluded = o.webhooks[0].namespaceSelector.matchExpressions[0];
      expect(excluded).toMatchObject({ key: 'kubernetes.io/metadata.name', operator: 'NotIn' });
      expect(excluded.values).toEqual(expect.arrayContaining(['kube-system', NAMESPACE]));
    }
    // Approvals are checked in every namespace (cluster-scoped requests' approvals live in belay's).
    for (const o of objs.filter((o) => WEBHOOK_KINDS.has(o.kind) && o.metadata.name === 'belay-approvals')) {
      for (const w of o.webhooks) expect(w.namespaceSelector).toBeUndefined();
    }
  });

  it('wires the TLS mode it was given', () => {
    const mode = values.tls?.mode ?? 'self';
    const deployment = objs.find((o) => o.kind === 'Deployment')!;
    const a = args(deployment);
    const configs = objs.filter((o) => WEBHOOK_KINDS.has(o.kind));
    const names = configs.map((o) => `${o.kind === 'MutatingWebhookConfiguration' ? 'mutating' : 'validating'}/${o.metadata.name}`).sort();
    const volumes: string[] = deployment.spec.template.spec.volumes.map((v: Obj) => v.name);
    if (mode === 'self') {
      expect(a).toContain('--tls-secret=belay-tls');
      expect(
        a
          .filter((x) => x.startsWith('--ca-bundle-webhook='))
          .map((x) => x.split('=')[1])
          .sort(),
      ).toEqual(names);
      expect(a).toContain(`--tls-san=belay.${NAMESPACE}.svc`);
      expect(a).toContain(`--tls-cert-duration=${values.tls?.self?.duration ?? '2160h'}`);
      expect(a).toContain(`--tls-ca-duration=${values.tls?.self?.caDuration ?? '87600h'}`);
      expect(volumes).not.toContain('tls');
      // The Secret the gateway fills: made by the chart (deleted on uninstall), without data keys (an upgrade never resets them).
      const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'belay-tls');
      expect(secret).toMatchObject({ type: 'Opaque', metadata: { namespace: NAMESPACE } });
      expect(secret?.data).toBeUndefined();
      expect(secret?.stringData).toBeUndefined();
      const role = objs.find((o) => o.kind === 'Role');
      expect(role?.rules).toContainEqual({
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['belay-tls'],
        verbs: ['get', 'list', 'watch', 'update', 'patch'],
      });
    } else {
      expect(a).toContain('--tls-dir=/etc/belay/tls');
      expect(a.some((x) => x.startsWith('--tls-secret') || x.startsWith('--ca-bundle-webhook'))).toBe(false);
      expect(volumes).toContain('tls');
      expect(objs.some((o) => o.kind === 'Role' && o.rules.some((r: Obj) => r.resources.includes('secrets')))).toBe(false);
      expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    }
    for (const o of configs) {
      const inject = o.metadata.annotations?.['cert-manager.io/inject-ca-from'];
      expect(inject).toBe(mode === 'cert-manager' ? `${NAMESPACE}/belay` : undefined);
      for (const w of o.webhooks) {
        expect(w.clientConfig.caBundle).toBe(mode === 'secret' ? Buffer.from(values.tls.caBundle).toString('base64') : undefined);
      }
    }
    const certificate = objs.find((o) => o.kind === 'Certificate' && o.metadata.name === 'belay');
    expect(certificate !== undefined).toBe(mode === 'cert-manager');
    if (certificate) expect(certificate.spec.dnsNames).toContain(`belay.${NAMESPACE}.svc`);
  });

  it('wires notification channels to files from Secrets, with no credential in the ConfigMap', () => {
    const deployment = objs.find((o) => o.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const config = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'belay-config')!;
    const notify = values.notifications as Obj | undefined;
    if (!notify?.enabled) {
      expect(args(deployment).filter((a) => a.startsWith('--notify-config'))).toEqual([]);
      expect(config.data['notifications.yaml']).toBeUndefined();
      return;
    }
    expect(args(deployment)).toContain('--notify-config=/etc/belay/config/notifications.yaml');
    const file = parse(config.data['notifications.yaml']) as Obj;
    // What the gateway reads of it: every channel but for the Secrets' files, which exist only in the pod.
    const read = parseNotifyConfig(file);
    expect(read.problems.filter((p) => !/cannot read \/etc\/belay\/notify\/secrets\//.test(p.message))).toEqual([]);
    expect(read.consoleUrl).toBe(notify.consoleUrl);
    const mounts = new Map<string, string>(pod.containers[0].volumeMounts.map((m: Obj) => [m.name, m.mountPath]));
    const secrets = new Map<string, string>(pod.volumes.filter((v: Obj) => v.secret).map((v: Obj) => [v.name, v.secret.secretName]));
    const mounted = new Map([...secrets].map(([volume, secret]) => [secret, mounts.get(volume)]));
    for (const c of notify.channels as Obj[]) {
      const rendered = (file.channels as Obj[]).find((x) => x.name === c.name)!;
      const refs: [Obj | undefined, string | undefined][] = [
        [c.urlSecret, rendered.urlFile],
        [c.tokenSecret, rendered.tokenFile],
        [c.smtp?.usernameSecret, rendered.smtp?.usernameFile],
        [c.smtp?.passwordSecret, rendered.smtp?.passwordFile],
      ];
      for (const [ref, at] of refs) {
        if (!ref) continue;
        expect(at).toBe(`${mounted.get(ref.secretName)}/${ref.key}`);
      }
      expect(Object.keys(rendered).filter((k) => /Secret$/.test(k))).toEqual([]);
    }
    for (const volume of secrets.keys()) if (volume.startsWith('notify-')) expect(mounts.get(volume)).toMatch(/^\/etc\/belay\/notify\/secrets\//);
  });

  it('removes every webhook configuration in a pre-delete hook, before anything else is deleted', () => {
    const configs = objs.filter((o) => WEBHOOK_KINDS.has(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
    const hooks = all.filter(isHook);
    expect(hooks.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(configs.sort());
    for (const h of hooks) {
      expect(h.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-delete', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
      expect(h.webhooks).toEqual([]);
    }
  });
});

function args(deployment: Obj): string[] {
  return deployment.spec.template.spec.containers[0].args;
}

describe('values the chart refuses', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-chart-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refused: Array<[string, string, RegExp]> = [
    ['no agents at all', 'agents: {usernames: [], serviceAccountNamespaces: [], serviceAccounts: [], groups: []}', /agents: name at least one agent/],
    ['an approver group that is an agent group', 'approverGroups: ["belay:agents"]', /approverGroups: "belay:agents" is also in agents.groups/],
    ['no approver group', 'approverGroups: []', /approverGroups/],
    ['an unknown TLS mode', 'tls: {mode: letsencrypt}', /tls\/mode.*must be one of 'self', 'cert-manager', 'secret'/],
    ['mode secret without a Secret', 'tls: {mode: secret}', /tls.mode=secret: set tls.secretName/],
    ['mode secret without its CA', 'tls: {mode: secret, secretName: mine}', /tls.mode=secret: set tls.caBundle/],
    ['a caBundle outside mode secret', 'tls: {caBundle: "x"}', /tls.caBundle is only for tls.mode=secret/],
    ['a certificate lifetime that is no duration', 'tls: {self: {duration: 90d}}', /tls\/self\/duration.*does not match pattern/],
    ['belay’s own namespace as an agent namespace', 'agents: {serviceAccountNamespaces: [belay]}', /"belay" is the namespace belay is installed in/],
    ['belay’s own service account as an agent', 'agents: {serviceAccounts: [belay/belay]}', /belay's own service account/],
    ['a malformed service account', 'agents: {serviceAccounts: [just-a-name]}', /serviceAccounts/],
    ['an unknown bundle source', 'bundle: {source: s3}', /bundle\/source.*must be one of/],
    ['a ConfigMap bundle without its name', 'bundle: {source: configMap}', /bundle.source=configMap: set bundle.configMap.name/],
    ['a URL bundle without its URL', 'bundle: {source: url}', /bundle.source=url: set bundle.url.url/],
    ['a directory bundle without a volume', 'bundle: {source: directory}', /bundle.source=directory: set bundle.directory.volume/],
    ['verification keys without their Secret', 'bundle: {verification: {keys: [{id: k, file: k.pem}]}}', /set bundle.verification.secretName/],
    ['both PDB bounds', 'podDisruptionBudget: {maxUnavailable: 1, minAvailable: 2}', /not both/],
    ['an unknown failurePolicy', 'webhooks: {validating: {failurePolicy: Open}}', /failurePolicy.*must be one of 'Fail', 'Ignore'/],
    ['a timeout past the API server’s limit', 'webhooks: {mutating: {timeoutSeconds: 60}}', /timeoutSeconds.*maximum/],
    ['a misspelt value', 'agent: {groups: [x]}', /additional properties 'agent' not allowed/],
    ['a notification channel of an unknown type', 'notifications: {channels: [{name: a, type: pager}]}', /notifications\/channels\/0\/type.*must be one of/],
    [
      'a credential written into the values',
      'notifications: {channels: [{name: a, type: webhook, url: "https://x", token: abc}]}',
      /additional properties 'token' not allowed/,
    ],
    ['a Secret reference without its key', 'notifications: {channels: [{name: a, type: slack, urlSecret: {secretName: s}}]}', /missing property 'key'/],
  ];

  it.each(refused)('refuses %s with a message that says what to change', (_what, yaml, message) => {
    const file = path.join(dir, 'values.yaml');
    writeFileSync(file, yaml);
    const r = template(file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe("belay's own policy on the chart's objects", () => {
  const gateway = path.join(root, 'dist', 'webhook', 'main.js');
  const bundle = path.join(root, '.build', 'bundle.tar.gz');

  it.each(cases)('admits the workload and namespaced objects of %s unchanged when an agent applies them', (name) => {
    if (!existsSync(gateway) || !existsSync(bundle)) throw new Error('run make build bundle first (belay check needs dist/ and the bundle)');
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-chart-check-'));
    try {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, template(path.join(valuesDir, `${name}.yaml`), ['--no-hooks']).stdout);
      const r = spawnSync(process.execPath, [gateway, 'check', file, '--bundle', bundle, '-n', NAMESPACE, '-o', 'json'], { encoding: 'utf8' });
      const items = JSON.parse(r.stdout).results as Array<{ name: string; observed: { kind: string; status: string } }>;
      const installerOnly = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'CustomResourceDefinition', ...WEBHOOK_KINDS]);
      const workload = items.filter((i) => !installerOnly.has(i.observed.kind));
      expect(workload.map((i) => i.observed.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'ServiceAccount']));
      for (const i of workload) expect(i.observed.status, i.name).toBe('pass');
      // RBAC, the CRD and webhook configurations are an installer's (a human's) to
      // apply: an agent is deferred or denied, but belay never wants to change them.
      for (const i of items) expect(['pass', 'defer', 'deny'], i.name).toContain(i.observed.status);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the kustomize tree', () => {
  it('is rendered from the chart and up to date (make manifests)', () => {
    expect(staleFiles()).toEqual([]);
  });
});

describe('the PrometheusRule', () => {
  it('alerts only on series the gateway exposes (with a metric per alert that can fire)', async () => {
    const rendered = template(path.join(valuesDir, 'ship-and-alerts.yaml'), ['-s', 'templates/prometheusrule.yaml']);
    expect(rendered.code, rendered.stderr).toBe(0);
    const rule = objects(rendered.stdout)[0]!;
    const exprs: string[] = rule.spec.groups.flatMap((g: Obj) => g.rules.map((r: Obj) => r.expr as string));
    expect(exprs.length).toBeGreaterThanOrEqual(6);
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.trackLeases(() => []);
    const exposed = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\b(belay_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
      expect(names.length, expr).toBeGreaterThan(0);
      for (const n of names) expect(exposed, `${n} in ${expr}`).toContain(n);
    }
  });
});
