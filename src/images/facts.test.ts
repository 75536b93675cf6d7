// Image facts against a real registry: crane's registry on 127.0.0.1 with
// images crane made (root, numeric, named, no User, a multi-arch index), and
// the same images behind Basic and Bearer-token auth fronts.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthFront, craneBinary, makeTestImages, type Registry, startAuthFront, startRegistry, type TestImages } from '../testkit/registry.js';
import { Keyring } from './credentials.js';
import { ImageFactsResolver } from './facts.js';

const crane = craneBinary();
if (crane.path === null) console.warn(`skipping the registry tests: ${crane.why}`);

const dockerConfig = (host: string, user: string, pass: string) => ({
  auths: { [`http://${host}/v2/`]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } },
});

describe.skipIf(crane.path === null)('image facts from a real registry', () => {
  let registry: Registry;
  let images: TestImages;
  let basic: AuthFront;
  let bearer: AuthFront;
  let foreignRealm: AuthFront;

  beforeAll(async () => {
    registry = await startRegistry(crane.path!);
    images = makeTestImages(crane.path!, registry.host);
    basic = await startAuthFront({ upstream: registry.host, scheme: 'basic', users: { ci: 's3cret' } });
    bearer = await startAuthFront({ upstream: registry.host, scheme: 'bearer', users: { robot: 'pull-token' } });
    foreignRealm = await startAuthFront({ upstream: registry.host, scheme: 'bearer', users: { robot: 'pull-token' }, realm: 'http://127.0.0.2:1/token' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([basic?.stop(), bearer?.stop(), foreignRealm?.stop(), registry?.stop()]);
  });

  it('reads the configured user of each test image', async () => {
    const r = new ImageFactsResolver();
    const got = await r.lookupAll([images.noUser, images.root, images.numeric, images.numericWithGroup, images.named]);
    const brief = Object.fromEntries(Object.entries(got).map(([k, f]) => [k, [f.known, f.user, f.uid, f.named, f.nonRoot]]));
    expect(brief).toEqual({
      [images.noUser]: [true, '', 0, false, false],
      [images.root]: [true, '0', 0, false, false],
      [images.numeric]: [true, '65532', 65532, false, true],
      [images.numericWithGroup]: [true, '65532:65532', 65532, false, true],
      [images.named]: [true, 'nginx', null, true, false],
    });
    expect(got[images.numeric]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(got[images.numeric]!.platform).toBe('linux/amd64');
  });

  it('picks the configured platform from a multi-arch index; the digest is the index digest', async () => {
    const amd = await new ImageFactsResolver().lookup(images.multiArch);
    const arm = await new ImageFactsResolver({ platform: 'linux/arm64/v8' }).lookup(images.multiArch);
    expect([amd.known, amd.uid, amd.nonRoot, amd.platform]).toEqual([true, 65532, true, 'linux/amd64']);
    expect([arm.known, arm.uid, arm.nonRoot, arm.platform]).toEqual([true, 0, false, 'linux/arm64/v8']);
    expect(amd.digest).toBe(arm.digest);
    expect(amd.manifestDigest).not.toBe(arm.manifestDigest);
    const s390 = await new ImageFactsResolver({ platform: 'linux/s390x' }).lookup(images.multiArch);
    expect(s390).toMatchObject({ known: false });
    expect(s390.reason).toContain('has no linux/s390x image (its index has linux/amd64, linux/arm64/v8)');
  });

  it('resolves a reference pinned by digest, and refuses a digest the registry does not have', async () => {
    const f = await new ImageFactsResolver().lookup(images.byDigest);
    expect([f.known, f.uid, f.digest]).toEqual([true, 65532, images.byDigest.split('@')[1]]);
    const missing = await new ImageFactsResolver().lookup(`${registry.host}/test/numeric@sha256:${'0'.repeat(64)}`);
    expect(missing.known).toBe(false);
    expect(missing.reason).toContain('not found');
  });

  it('answers unknown with a reason for a missing image', async () => {
    const f = await new ImageFactsResolver().lookup(`${registry.host}/test/absent:1`);
    expect(f).toMatchObject({ image: `${registry.host}/test/absent:1`, known: false });
    expect(f.reason).toMatch(/test\/absent: manifests\/1 not found/);
  });

  it('uses Basic credentials from a docker config.json, and says who refused without them', async () => {
    const ref = images.named.replace(registry.host, basic.host);
    const anonymous = await new ImageFactsResolver().lookup(ref);
    expect(anonymous.known).toBe(false);
    expect(anonymous.reason).toContain(`${basic.host} refused to serve test/named anonymously`);
    const wrong = await new ImageFactsResolver().lookup(ref, new Keyring().addDockerConfig(dockerConfig(basic.host, 'ci', 'nope'), 'docker config'));
    expect(wrong.reason).toContain('with the credentials from docker config');
    expect(wrong.reason).not.toContain('nope');
    const right = await new ImageFactsResolver().lookup(ref, new Keyring().addDockerConfig(dockerConfig(basic.host, 'ci', 's3cret'), 'docker config'));
    expect([right.known, right.user, right.named]).toEqual([true, 'nginx', true]);
  });

  it('follows the Bearer challenge with a pull secret, trying each matching credential in turn', async () => {
    const ref = images.multiArch.replace(registry.host, bearer.host);
    const secret = (name: string, pass: string) => ({
      metadata: { name, namespace: 'team-a' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerConfig(bearer.host, 'robot', pass))).toString('base64') },
    });
    const keyring = new Keyring().addPullSecrets([secret('stale', 'old'), secret('current', 'pull-token')]);
    const before = bearer.seen.length;
    const f = await new ImageFactsResolver().lookup(ref, keyring);
    expect([f.known, f.uid, f.platform]).toEqual([true, 65532, 'linux/amd64']);
    const calls = bearer.seen.slice(before);
    expect(calls.filter((c) => c.path === '/token').length).toBe(2); // the stale secret's token request fails, the current one's works
    expect(calls.some((c) => c.path.includes('/blobs/') && c.authorized)).toBe(true);
  });

  it('does not send credentials to a token realm outside the registry', async () => {
    const ref = images.numeric.replace(registry.host, foreignRealm.host);
    const f = await new ImageFactsResolver().lookup(ref, new Keyring().addDockerConfig(dockerConfig(foreignRealm.host, 'robot', 'pull-token'), 'cfg'));
    expect(f.known).toBe(false);
    expect(f.reason).toContain('token realm 127.0.0.2:1 is outside its domain; add it to the trusted realms to allow it');
  });

  it('caches by reference: a second lookup asks no registry; unknown answers expire sooner', async () => {
    let now = 1_000_000;
    const r = new ImageFactsResolver({ now: () => now, cache: { tagTtlMs: 60_000, unknownTtlMs: 1000 } });
    await r.lookup(images.numeric);
    await r.lookup(images.numeric);
    expect(r.stats).toEqual({ hits: 1, lookups: 1 });
    const absent = `${registry.host}/test/absent:2`;
    await r.lookup(absent);
    await r.lookup(absent);
    expect(r.stats).toEqual({ hits: 2, lookups: 2 });
    now += 1500;
    await r.lookup(absent);
    await r.lookup(images.numeric);
    expect(r.stats).toEqual({ hits: 3, lookups: 3 });
    now += 60_000;
    await r.lookup(images.numeric);
    expect(r.stats.lookups).toBe(4);
  });

  it('keeps to the allowed registries', async () => {
    const f = await new ImageFactsResolver({ allowRegistries: ['registry.example.com'] }).lookup(images.numeric);
    expect(f.reason).toBe(`registry ${registry.host} is not in the allowed registries (registry.example.com)`);
  });
});

describe('image facts when the registry cannot answer', () => {
  it('times out a registry that accepts connections but never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    const f = await new ImageFactsResolver({ timeoutMs: 300 }).lookup(`127.0.0.1:${port}/app:1`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(f).toEqual({ image: `127.0.0.1:${port}/app:1`, known: false, reason: `127.0.0.1:${port} did not answer within 300 ms` });
    for (const s of sockets) s.destroy();
    silent.close();
  });

  it('reports an unreachable registry and an invalid reference without guessing', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const f = await new ImageFactsResolver().lookup(`127.0.0.1:${port}/app:1`);
    expect(f).toEqual({ image: `127.0.0.1:${port}/app:1`, known: false, reason: `cannot reach 127.0.0.1:${port}: ECONNREFUSED` });
    const bad = await new ImageFactsResolver().lookup('Not An Image');
    expect(bad.known).toBe(false);
    expect(bad.reason).toContain('invalid');
  });
});
