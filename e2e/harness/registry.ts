// The image registry the scenarios' workloads come from: crane's registry on
// 127.0.0.1 (a port in BELAY_REGISTRY_PORTS), images crane makes with known
// users (numeric non-root, root, named), and a Basic-auth front for a private
// image. Started once per run by global setup; where everything is goes to
// <out>/registry.json, which the gateway harness reads (the gateway may
// contact these registries only) and so do the tests.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { craneBinary, pushImages, startAuthFront, startRegistry } from '../../src/testkit/registry.js';
import { paths } from './env.js';

export interface E2eImages {
  /** host:port of the registry, and of the auth front before it. */
  registry: string;
  front: string;
  /** User 65532. */
  nonRoot: string;
  /** No User: root. */
  root: string;
  /** User "app": a name. */
  named: string;
  /** User 10001, only through the front, with `credentials`. */
  private: string;
  credentials: { username: string; password: string };
}

const file = () => path.join(paths.out, 'registry.json');

/** Starts the registry and the front and pushes the images; `stop` ends both. */
export async function startE2eRegistry(): Promise<{ images: E2eImages; stop(): Promise<void> }> {
  const crane = craneBinary();
  if (crane.path === null) throw new Error(crane.why);
  const registry = await startRegistry(crane.path);
  const credentials = { username: 'e2e-puller', password: `pull-${Date.now().toString(36)}` };
  try {
    const refs = pushImages(crane.path, registry.host, { 'e2e/app:nonroot': '65532', 'e2e/app:root': '', 'e2e/app:named': 'app', 'e2e/private:1': '10001' });
    const front = await startAuthFront({ upstream: registry.host, scheme: 'basic', users: { [credentials.username]: credentials.password } });
    const images: E2eImages = {
      registry: registry.host,
      front: front.host,
      nonRoot: refs['e2e/app:nonroot']!,
      root: refs['e2e/app:root']!,
      named: refs['e2e/app:named']!,
      private: `${front.host}/e2e/private:1`,
      credentials,
    };
    writeFileSync(file(), `${JSON.stringify(images, null, 2)}\n`);
    return {
      images,
      async stop() {
        rmSync(file(), { force: true });
        await front.stop();
        await registry.stop();
      },
    };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

/** The running registry's images (global setup started it). */
export function e2eImages(): E2eImages {
  if (!existsSync(file())) throw new Error(`no e2e registry (${file()}): the suite's global setup starts it`);
  return JSON.parse(readFileSync(file(), 'utf8')) as E2eImages;
}

/** The gateway's --image-registries: only the e2e registry and its front, when they run. */
export function gatewayImageArgs(): string[] {
  if (!existsSync(file())) return [];
  const images = e2eImages();
  return ['--image-registries', `${images.registry},${images.front}`];
}

/**
 * Pushes `name` (a repository:tag in the e2e registry) with this user, or
 * again with another one: a mutable tag moved under a workload. The simulated
 * kubelet decides by image name (e2e/controlplane/kwok.yaml), so a name
 * without "nonroot" runs as root there, as the tag does once pushed with ''.
 */
export function pushE2eImage(name: string, user: string): string {
  const crane = craneBinary();
  if (crane.path === null) throw new Error(crane.why);
  return pushImages(crane.path, e2eImages().registry, { [name]: user })[name]!;
}
