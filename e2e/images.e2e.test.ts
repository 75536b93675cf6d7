// Image-aware fixes on the real API server (issue 20, docs/images.md): the
// agent's Deployments run images from the e2e registry (crane's, on
// 127.0.0.1) whose users are known. A root or named image is never silently
// given runAsNonRoot: the write is deferred with why and what to do; a
// numeric non-root image is fixed and admitted. A private image is read with
// the pod's or its service account's pull secret (the gateway's RBAC from
// manifests/rbac), a registry the gateway may not ask makes the image unknown,
// and `belay check` gives the same answers as the webhook.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk, rulesIn } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { deployment } from './harness/objects.js';
import { run } from './harness/proc.js';
import { type E2eImages, e2eImages } from './harness/registry.js';

interface Stored {
  spec: { template: { spec: { securityContext?: { runAsNonRoot?: boolean; runAsUser?: number }; containers: { securityContext?: object }[] } } };
}

const gateway = new Gateway();
let images: E2eImages;

beforeAll(async () => {
  images = e2eImages();
  await gateway.start();
  await installManifests();
});

afterAll(async () => {
  await gateway.stop();
});

const REMEDY =
  'use an image whose Dockerfile sets a numeric non-root USER (e.g. USER 65532), or set securityContext.runAsUser to a non-zero UID the image can run as';

describe('an agent deploys images whose user decides whether runAsNonRoot is safe', () => {
  it('a numeric non-root image is fixed and admitted, with runAsNonRoot and no runAsUser', async () => {
    transcriptSection('Images 1. Agent applies a Deployment whose image runs as 65532 → admitted with runAsNonRoot');
    const name = `img-nonroot-${runId}`;
    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment({ name, namespace: ns.dev, image: images.nonRoot }) }));
    const spec = (await getObject<Stored>(['deployment', name], ns.dev))!.spec.template.spec;
    expect(spec.securityContext?.runAsNonRoot).toBe(true);
    expect(spec.securityContext?.runAsUser).toBeUndefined();
  });

  it('a root image is not silently fixed: deferred with why and what to do, and nothing is stored', async () => {
    transcriptSection('Images 2. Agent applies a Deployment whose image runs as root → deferred, needs a person');
    const name = `img-root-${runId}`;
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment({ name, namespace: ns.dev, image: images.root }) });
    expectDeferred(r);
    expect(rulesIn(r.stderr)[0]).toBe('images.run_as_non_root');
    expect(r.stderr).toContain(`image ${images.root} runs as root (its config sets no User, so root), so runAsNonRoot: true would stop container "web"`);
    expect(r.stderr).toContain(REMEDY);
    expect(await getObject(['deployment', name], ns.dev)).toBeUndefined();
  });

  it('a named user is not trusted either', async () => {
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment({ name: `img-named-${runId}`, namespace: ns.dev, image: images.named }) });
    expectDeferred(r);
    expect(r.stderr).toContain(`image ${images.named} runs as user "app", a name the kubelet cannot verify as non-root`);
  });

  it('the root image with the runAsUser the message asks for is fixed and admitted', async () => {
    transcriptSection('Images 3. The agent follows the advice: runAsUser 10001 → admitted with runAsNonRoot');
    const name = `img-root-uid-${runId}`;
    const r = await kubectl('agent', ['apply', '-f', '-'], {
      stdin: deployment({ name, namespace: ns.dev, image: images.root, podSecurityContext: { runAsUser: 10001 } }),
    });
    expectOk(r);
    const spec = (await getObject<Stored>(['deployment', name], ns.dev))!.spec.template.spec;
    expect(spec.securityContext).toMatchObject({ runAsUser: 10001, runAsNonRoot: true });
  });

  it('an image on a registry belay may not ask is unknown, never guessed', async () => {
    const image = 'registry.internal.example/team-a/app:1';
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment({ name: `img-elsewhere-${runId}`, namespace: ns.dev, image }) });
    expectDeferred(r);
    expect(r.stderr).toContain(`belay could not read the user of image ${image} (registry registry.internal.example is not in the allowed registries`);
  });
});

describe('a private image, read with the pull secrets the kubelet would use', () => {
  const secret = `regcred-${runId}`;
  const account = `builder-${runId}`;

  beforeAll(async () => {
    await admin([
      'create',
      'secret',
      'docker-registry',
      secret,
      '-n',
      ns.dev,
      `--docker-server=${images.front}`,
      `--docker-username=${images.credentials.username}`,
      `--docker-password=${images.credentials.password}`,
    ]);
    await admin(
      ['apply', '-f', '-'],
      stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: ns.dev }, imagePullSecrets: [{ name: secret }] }),
    );
  });

  it('without a pull secret the registry refuses, so the write is deferred saying so', async () => {
    const r = await kubectl('agent', ['apply', '-f', '-'], {
      stdin: deployment({ name: `img-private-anon-${runId}`, namespace: ns.dev, image: images.private }),
    });
    expectDeferred(r);
    expect(r.stderr).toContain(`${images.front} refused to serve e2e/private anonymously`);
    expect(r.stderr).not.toContain(images.credentials.password);
  });

  it("with the pod's imagePullSecrets it is read, fixed and admitted", async () => {
    transcriptSection("Images 4. A private image with the pod's pull secret → read with it, admitted with runAsNonRoot");
    const name = `img-private-${runId}`;
    const manifest = deployment({ name, namespace: ns.dev, image: images.private });
    const withSecret = manifest.replace('      containers:', `      imagePullSecrets:\n        - name: ${secret}\n      containers:`);
    expect(withSecret).toContain('imagePullSecrets');
    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: withSecret }));
    expect((await getObject<Stored>(['deployment', name], ns.dev))!.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
  });

  it("with its service account's imagePullSecrets it is read too", async () => {
    const name = `img-private-sa-${runId}`;
    const manifest = deployment({ name, namespace: ns.dev, image: images.private }).replace(
      '      containers:',
      `      serviceAccountName: ${account}\n      containers:`,
    );
    expect(manifest).toContain('serviceAccountName');
    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: manifest }));
    expect((await getObject<Stored>(['deployment', name], ns.dev))!.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
  });
});

describe('belay check gives the answers the webhook gave', () => {
  it('root: needs a human change; numeric non-root: would fix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-e2e-check-'));
    const file = path.join(dir, 'apps.yaml');
    writeFileSync(
      file,
      [
        deployment({ name: 'root-app', namespace: ns.dev, image: images.root }),
        deployment({ name: 'nonroot-app', namespace: ns.dev, image: images.nonRoot }),
      ].join('---\n'),
    );
    const r = await run(process.execPath, [
      paths.gatewayMain,
      'check',
      '--bundle',
      paths.bundle,
      '--no-color',
      '--image-registries',
      images.registry,
      file,
      '--namespace-label',
      'environment=development',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL Deployment ${ns.dev}/root-app`);
    expect(r.stdout).toContain(`got needs a human change: Deployment "root-app": image ${images.root} runs as root`);
    expect(r.stdout).toContain(`FAIL Deployment ${ns.dev}/nonroot-app — would fix`);
  });
});
