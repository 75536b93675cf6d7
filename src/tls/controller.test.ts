// The certificate controller and the Secret source against the in-memory API
// server (src/testkit/fake-kube.ts): two replicas share one Secret, one leads,
// both serve what it writes. The real API server, helm and rotation under
// traffic are in e2e/install.e2e.test.ts.

import type * as k8s from '@kubernetes/client-node';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observe/log.js';
import { type FakeKube, startFakeKube } from '../testkit/fake-kube.js';
import { CertificateController } from './controller.js';
import { inspectCertificate, signedBy, splitPem } from './pki.js';
import { decodeSecret, secretCertificateSource } from './secret.js';

const log = createLogger({ level: 'silent' });
const secret = { namespace: 'belay', name: 'belay-tls' };
const webhooks = [
  { kind: 'mutating', name: 'belay' },
  { kind: 'validating', name: 'belay' },
] as const;

let kube: FakeKube;
let kc: k8s.KubeConfig;
const stops: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  kube = await startFakeKube({ username: 'system:serviceaccount:belay:belay' });
  kc = kube.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  await core.createNamespacedSecret({ namespace: 'belay', body: { metadata: { name: 'belay-tls' }, type: 'Opaque' } });
  await core.createNamespacedConfigMap({ namespace: 'belay', body: { metadata: { name: 'belay-authorization' }, data: { 'authorization-config.yaml': 'x' } } });
  const hook = (name: string) => ({ name, admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: `https://127.0.0.1/${name}` } });
  await admission.createMutatingWebhookConfiguration({ body: { metadata: { name: 'belay' }, webhooks: [hook('mutate.belay.dev')] } });
  await admission.createValidatingWebhookConfiguration({
    body: { metadata: { name: 'belay' }, webhooks: [hook('validate.belay.dev'), hook('more.belay.dev')] },
  });
});

afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await kube.close();
});

function replica(identity: string, certValidityMs = 600_000) {
  const controller = new CertificateController(kc, {
    secret,
    policy: { caValidityMs: 3_600_000, certValidityMs, hosts: ['belay.belay.svc', '127.0.0.1'], propagationMs: 1_000 },
    webhooks,
    configMap: 'belay-authorization',
    log,
    identity,
  });
  const source = secretCertificateSource(kc, secret, { log, resyncMs: 500 });
  source.onChange(() => controller.nudge());
  stops.push(
    () => controller.stop(),
    () => source.close(),
  );
  return { controller, source };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the certificate controller (TLS mode self)', () => {
  it('fills the Secret under one leader, writes the CA into every webhook and the ConfigMap, and both replicas serve the pair', async () => {
    const a = replica('a');
    const b = replica('b');
    await a.source.start();
    await b.source.start();
    expect(a.source.current()).toBeUndefined();
    expect(a.source.problem()).toMatch(/waiting for Secret belay\/belay-tls to hold a certificate/);
    a.controller.start();
    b.controller.start();

    const pa = await until('replica a to load a certificate', () => a.source.current());
    const pb = await until('replica b to load a certificate', () => b.source.current());
    expect(pb.facts.serial).toBe(pa.facts.serial);
    expect([a.controller.leading, b.controller.leading].filter(Boolean)).toHaveLength(1);

    const stored = decodeSecret(kube.objects('/secrets').find((s) => (s.metadata.name as string) === 'belay-tls') as k8s.V1Secret);
    const ca = inspectCertificate(splitPem(stored['ca.crt']!)[0]!);
    expect(signedBy(pa.facts, ca)).toBe(true);
    expect(pa.facts.hosts.sort()).toEqual(['127.0.0.1', 'belay.belay.svc']);
    const caBundle = Buffer.from(stored['ca.crt']!).toString('base64');
    await until('the CA in every webhook', () =>
      ['admissionregistration.k8s.io/mutatingwebhookconfigurations', 'admissionregistration.k8s.io/validatingwebhookconfigurations'].every((r) =>
        kube.objects(r).every((c) => (c.webhooks as { clientConfig: { caBundle?: string } }[]).every((w) => w.clientConfig.caBundle === caBundle)),
      ),
    );
    const cm = kube.objects('/configmaps').find((c) => c.metadata.name === 'belay-authorization') as unknown as { data: Record<string, string> };
    expect(cm.data['ca.crt']).toBe(stored['ca.crt']);
    expect(cm.data['authorization-config.yaml']).toBe('x');
  });

  it('rotates the serving certificate before it expires, and every replica swaps it in', async () => {
    const a = replica('a', 3_000);
    const b = replica('b', 3_000);
    await a.source.start();
    await b.source.start();
    a.controller.start();
    b.controller.start();
    const first = await until('a certificate', () => b.source.current());
    const swapped: string[] = [];
    b.source.onChange((p) => swapped.push(p.facts.serial));
    // Renewed with a third of its 3 s left.
    const next = await until('a rotation', () => (b.source.current()?.facts.serial !== first.facts.serial ? b.source.current() : undefined), 15_000);
    expect(next.facts.notAfter.getTime()).toBeGreaterThan(first.facts.notAfter.getTime());
    expect(swapped[0]).toBe(next.facts.serial);
    expect(a.source.current()?.facts.serial === next.facts.serial || a.source.current()?.facts.serial === swapped.at(-1)).toBe(true);
  });

  it('hands over when the leader stops, and never creates a webhook configuration that is gone', async () => {
    const a = replica('a');
    const b = replica('b');
    await a.source.start();
    await b.source.start();
    a.controller.start();
    await until('a to lead', () => a.controller.leading);
    b.controller.start();
    await until('a certificate', () => b.source.current());
    await kc.makeApiClient(AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name: 'belay' });
    await a.controller.stop();
    await until('b to lead', () => b.controller.leading);
    await b.controller.reconcile();
    expect(kube.objects('admissionregistration.k8s.io/validatingwebhookconfigurations')).toEqual([]);
    expect(kube.objects('admissionregistration.k8s.io/mutatingwebhookconfigurations')).toHaveLength(1);
  });
});
