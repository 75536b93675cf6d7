// Image facts for one request: a real registry behind a Basic-auth front, the
// pod's and its service account's pull secrets from a fake reader, a docker
// config file, the time budget, and the evaluate-again step.

import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision, JsonObject, PolicyInput } from '../contract/index.js';
import { type AuthFront, craneBinary, makeTestImages, type Registry, startAuthFront, startRegistry, type TestImages } from '../testkit/registry.js';
import { imageFactsSource, parseRegistryList } from './config.js';
import { ImageFactsResolver } from './facts.js';
import {
  DockerConfigCredentials,
  evaluateWithImageFacts,
  type ImageFactsSource,
  NoImageFacts,
  PullSecretCredentials,
  type PullSecretReader,
  RegistryImageFacts,
  StatedImageFacts,
  statedFacts,
  wantsImageFacts,
} from './source.js';

const crane = craneBinary();
if (crane.path === null) console.warn(`skipping the image source tests against a registry: ${crane.why}`);

function deployment(images: string[], spec: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: { template: { spec: { ...spec, containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
  };
}

function pullSecret(name: string, host: string, user: string, pass: string) {
  const config = { auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } };
  return {
    metadata: { name, namespace: 'team-a' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

/** A reader over fixed service accounts and Secrets that records what was asked. */
function fakeReader(
  accounts: Record<string, string[]>,
  secrets: Record<string, ReturnType<typeof pullSecret>>,
  forbidden: string[] = [],
): PullSecretReader & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async serviceAccountPullSecrets(ns, name) {
      asked.push(`sa ${ns}/${name}`);
      return accounts[`${ns}/${name}`] ?? null;
    },
    async secret(ns, name) {
      asked.push(`secret ${ns}/${name}`);
      if (forbidden.includes(name)) throw Object.assign(new Error('Forbidden'), { code: 403 });
      return secrets[`${ns}/${name}`] ?? null;
    },
  };
}

describe.skipIf(crane.path === null)('image facts for a request, from a registry', () => {
  let registry: Registry;
  let images: TestImages;
  let basic: AuthFront;
  /** The numeric image, reachable only with credentials. */
  let privateNumeric: string;

  beforeAll(async () => {
    registry = await startRegistry(crane.path!);
    images = makeTestImages(crane.path!, registry.host);
    basic = await startAuthFront({ upstream: registry.host, scheme: 'basic', users: { ci: 's3cret' } });
    privateNumeric = images.numeric.replace(registry.host, basic.host);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([basic?.stop(), registry?.stop()]);
  });

  it('answers every image of the pod spec, keyed as written, in the policy input shape', async () => {
    const source = new RegistryImageFacts({ resolver: new ImageFactsResolver(), budgetMs: 10_000 });
    const facts = await source.factsFor({ object: deployment([images.root, images.numeric, images.named, images.root]), namespace: 'team-a' });
    expect(Object.keys(facts).sort()).toEqual([images.named, images.numeric, images.root].sort());
    expect(facts[images.numeric]).toEqual({
      known: true,
      user: '65532',
      uid: 65532,
      named: false,
      nonRoot: true,
      digest: expect.stringMatching(/^sha256:/),
      platform: 'linux/amd64',
    });
    expect(facts[images.root]).toMatchObject({ known: true, user: '0', uid: 0, nonRoot: false });
    expect(facts[images.named]).toMatchObject({ known: true, user: 'nginx', uid: null, named: true, nonRoot: false });
  });

  it("reads a private image with the pod's pull secret, or its service account's", async () => {
    const secrets = { 'team-a/regcred': pullSecret('regcred', basic.host, 'ci', 's3cret') };
    const reader = fakeReader({ 'team-a/builder': ['regcred'] }, secrets);
    const source = new RegistryImageFacts({ resolver: new ImageFactsResolver(), credentials: [new PullSecretCredentials(reader)], budgetMs: 10_000 });

    const viaPod = await source.factsFor({ object: deployment([privateNumeric], { imagePullSecrets: [{ name: 'regcred' }] }), namespace: 'team-a' });
    expect(viaPod[privateNumeric]).toMatchObject({ known: true, uid: 65532, nonRoot: true });
    expect(reader.asked).toEqual(['sa team-a/default', 'secret team-a/regcred']);

    const fresh = new RegistryImageFacts({ resolver: new ImageFactsResolver(), credentials: [new PullSecretCredentials(reader)], budgetMs: 10_000 });
    reader.asked.length = 0;
    const viaAccount = await fresh.factsFor({ object: deployment([privateNumeric], { serviceAccountName: 'builder' }), namespace: 'team-a' });
    expect(viaAccount[privateNumeric]).toMatchObject({ known: true, nonRoot: true });
    expect(reader.asked).toEqual(['sa team-a/builder', 'secret team-a/regcred']);

    // Cached now: the next request reads no Secret at all.
    reader.asked.length = 0;
    await fresh.factsFor({ object: deployment([privateNumeric], { serviceAccountName: 'builder' }), namespace: 'team-a' });
    expect(reader.asked).toEqual([]);
  });

  it('says why an image is unknown when a pull secret cannot be read, without a secret value', async () => {
    const reader = fakeReader({}, { 'team-a/wrong': pullSecret('wrong', basic.host, 'ci', 'not-it') }, ['locked']);
    const source = new RegistryImageFacts({ resolver: new ImageFactsResolver(), credentials: [new PullSecretCredentials(reader)], budgetMs: 10_000 });
    const facts = await source.factsFor({
      object: deployment([privateNumeric], { imagePullSecrets: [{ name: 'locked' }, { name: 'gone' }, { name: 'wrong' }] }),
      namespace: 'team-a',
    });
    const f = facts[privateNumeric]!;
    expect(f.known).toBe(false);
    expect(f.reason).toContain(`${basic.host} refused to serve test/numeric with the credentials from secret team-a/wrong`);
    expect(f.reason).toContain('belay could not read pull secret team-a/locked (forbidden: grant belay get on secrets and serviceaccounts in this namespace');
    expect(f.reason).toContain('pull secret team-a/gone does not exist');
    expect(f.reason).not.toContain('not-it');
  });

  it('uses the auths of a docker config file, re-read when it changes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-docker-config-'));
    const file = path.join(dir, 'config.json');
    const write = (pass: string) =>
      writeFileSync(file, JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`ci:${pass}`).toString('base64') } } }) + ' '.repeat(pass.length));
    write('nope');
    const credentials = [new DockerConfigCredentials(file)];
    const resolver = new ImageFactsResolver({ cache: { unknownTtlMs: 1 } });
    const source = new RegistryImageFacts({ resolver, credentials, budgetMs: 10_000 });
    const before = await source.factsFor({ object: deployment([privateNumeric]), namespace: '' });
    expect(before[privateNumeric]).toMatchObject({ known: false });
    expect(before[privateNumeric]!.reason).toContain(`with the credentials from docker config ${file}`);
    write('s3cret');
    await new Promise((r) => setTimeout(r, 5));
    const after = await source.factsFor({ object: deployment([privateNumeric]), namespace: '' });
    expect(after[privateNumeric]).toMatchObject({ known: true, nonRoot: true });
    const missing = new RegistryImageFacts({
      resolver: new ImageFactsResolver(),
      credentials: [new DockerConfigCredentials(path.join(dir, 'absent.json'))],
      budgetMs: 10_000,
    });
    const f = (await missing.factsFor({ object: deployment([privateNumeric]), namespace: '' }))[privateNumeric]!;
    expect(f.reason).toContain(`cannot read docker config ${path.join(dir, 'absent.json')}: ENOENT`);
  });

  it('built from a configuration: only the allowed registries are asked', async () => {
    const config = { insecureRegistries: [], dockerConfig: undefined, pullSecrets: false, platform: 'linux/amd64', timeoutMs: 10_000 };
    const allowed = imageFactsSource({ ...config, registries: [registry.host] });
    expect((await allowed.factsFor({ object: deployment([images.numeric]), namespace: '' }))[images.numeric]).toMatchObject({ known: true });
    const elsewhere = imageFactsSource({ ...config, registries: ['registry.example.com'] });
    expect((await elsewhere.factsFor({ object: deployment([images.numeric]), namespace: '' }))[images.numeric]).toEqual({
      known: false,
      reason: `registry ${registry.host} is not in the allowed registries (registry.example.com)`,
    });
    const none = imageFactsSource({ ...config, registries: [] });
    expect(none).toBeInstanceOf(NoImageFacts);
    expect((await none.factsFor({ object: deployment([images.numeric]), namespace: '' }))[images.numeric]).toEqual({
      known: false,
      reason: 'belay contacts no registry (image lookups are off: --image-registries none)',
    });
  });
});

describe('image facts within the time budget', () => {
  it('a registry that never answers makes the images unknown within the budget', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const slowReader: PullSecretReader = {
      serviceAccountPullSecrets: (_ns, _name, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('the API server did not answer in time')))),
      secret: async () => null,
    };
    const source = new RegistryImageFacts({
      resolver: new ImageFactsResolver({ timeoutMs: 5_000, deadlineMs: 5_000 }),
      credentials: [new PullSecretCredentials(slowReader)],
      budgetMs: 400,
    });
    const started = performance.now();
    const images = [1, 2, 3, 4, 5, 6].map((i) => `${host}/app:${i}`);
    const facts = await source.factsFor({ object: deployment(images), namespace: 'team-a' });
    const ms = performance.now() - started;
    // 400 ms for credentials and lookups together, whatever the number of images; generous slack for a loaded machine.
    expect(ms).toBeLessThan(3_000);
    for (const image of images) {
      expect(facts[image]!.known).toBe(false);
      expect(facts[image]!.reason).toContain('service account team-a/default');
    }
    for (const s of sockets) s.destroy();
    silent.close();
  });
});

describe('stated facts, and asking again', () => {
  it('a stated user derives uid, named and nonRoot as a registry answer would', () => {
    expect(statedFacts({ user: '' })).toEqual({ known: true, user: '', uid: 0, named: false, nonRoot: false });
    expect(statedFacts({ user: '65532:65532', digest: 'sha256:ab' })).toEqual({
      known: true,
      user: '65532:65532',
      uid: 65532,
      named: false,
      nonRoot: true,
      digest: 'sha256:ab',
    });
    expect(statedFacts({ user: 'nginx' })).toMatchObject({ uid: null, named: true, nonRoot: false });
    expect(statedFacts({ known: false, reason: 'offline' })).toEqual({ known: false, reason: 'offline' });
  });

  it('stated facts come first; the rest from the fallback, else unknown with the reason given', async () => {
    const fallback: ImageFactsSource = { factsFor: async () => ({ 'b:1': statedFacts({ user: '1000' }) }) };
    const object = deployment(['a:1', 'b:1']);
    const both = await new StatedImageFacts({ 'a:1': statedFacts({ user: '' }) }, fallback, 'not stated').factsFor({ object, namespace: '' });
    expect(both).toEqual({ 'a:1': statedFacts({ user: '' }), 'b:1': statedFacts({ user: '1000' }) });
    const alone = await new StatedImageFacts({ 'a:1': statedFacts({ user: '' }) }, null, 'not stated').factsFor({ object, namespace: '' });
    expect(alone['b:1']).toEqual({ known: false, reason: 'not stated' });
  });

  it('looks images up only when a reason in the images. family asks, and only for objects with images', async () => {
    const decision = (rules: string[]): Pick<Decision, 'reasons'> => ({ reasons: rules.map((rule) => ({ rule, message: '', severity: 'medium' })) });
    expect(wantsImageFacts(decision(['pss.restricted.run_as_non_root']))).toBe(false);
    expect(wantsImageFacts(decision(['images.run_as_non_root']))).toBe(true);
    let asked = 0;
    const source: ImageFactsSource = {
      factsFor: async () => {
        asked++;
        return { 'a:1': statedFacts({ user: '1000' }) };
      },
    };
    const seen: (PolicyInput['images'] | undefined)[] = [];
    const evaluate = async (input: PolicyInput) => {
      seen.push(input.images);
      return input.images ? decision([]) : decision(['images.run_as_non_root']);
    };
    const input = { face: 'admission' } as PolicyInput;
    const looked = await evaluateWithImageFacts(input, { object: deployment(['a:1']), namespace: 'team-a', source }, evaluate, (d) => d);
    expect(asked).toBe(1);
    expect(seen).toEqual([undefined, { 'a:1': statedFacts({ user: '1000' }) }]);
    expect(looked.input.images).toEqual({ 'a:1': statedFacts({ user: '1000' }) });
    expect(looked.answer.reasons).toEqual([]);
    // Nothing to look up: a ConfigMap, or no source.
    await evaluateWithImageFacts(input, { object: { kind: 'ConfigMap' }, namespace: '', source }, evaluate, (d) => d);
    await evaluateWithImageFacts(input, { object: deployment(['a:1']), namespace: '', source: undefined }, evaluate, (d) => d);
    expect(asked).toBe(1);
  });

  it('parses registry lists: any, none, or host patterns', () => {
    expect(parseRegistryList('*')).toBeNull();
    expect(parseRegistryList('none')).toEqual([]);
    expect(parseRegistryList('Docker.io, *.gcr.io ,127.0.0.1:5000')).toEqual(['docker.io', '*.gcr.io', '127.0.0.1:5000']);
    expect(() => parseRegistryList('https://quay.io')).toThrow(/not a registry host/);
  });
});
