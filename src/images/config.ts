// How a caller looks images up, as one configuration: which registries belay
// may contact, where credentials come from, the platform and the time
// budget. The gateway (`belay serve`), `belay check` and `belay test` map
// their flags to it and build their source with imageFactsSource, so the
// webhook and the CLI read facts the same way.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { ImageFactsResolver, parsePlatform } from './facts.js';
import { kubePullSecretReader } from './kube.js';
import { type CredentialSource, DockerConfigCredentials, type ImageFactsSource, NoImageFacts, PullSecretCredentials, RegistryImageFacts } from './source.js';

export interface ImageLookupConfig {
  /** Registries belay may contact (host[:port], `*.` for one label); null: any; empty: none (every image unknown). */
  readonly registries: readonly string[] | null;
  /** Registries (host[:port]) spoken to over plain HTTP; loopback ones always are. */
  readonly insecureRegistries: readonly string[];
  /** A docker config.json whose `auths` are used (credential helpers are not run). */
  readonly dockerConfig: string | undefined;
  /** In a cluster: read the pod's and its service account's pull secrets. */
  readonly pullSecrets: boolean;
  /** The platform picked from a multi-platform image (os/arch[/variant]). */
  readonly platform: string;
  /** All lookups of one request together, credentials included (ms). */
  readonly timeoutMs: number;
}

/**
 * What the gateway contacts unless told otherwise: the public registries most
 * images come from. An agent chooses the image string, so a gateway that
 * contacted any host it names could be sent to probe the cluster's network.
 */
export const PUBLIC_REGISTRIES: readonly string[] = [
  'docker.io',
  'registry.k8s.io',
  'ghcr.io',
  'quay.io',
  'gcr.io',
  '*.gcr.io',
  '*.pkg.dev',
  'mcr.microsoft.com',
  'public.ecr.aws',
  'cgr.dev',
  'nvcr.io',
];

/** `*` (any), `none`, or a comma-separated list of host[:port] patterns. */
export function parseRegistryList(text: string): string[] | null {
  const t = text.trim();
  if (t === '*') return null;
  if (t === '' || t === 'none') return [];
  const list = parseHostList(t);
  for (const p of list) {
    if (p === '*') return null;
    if (!/^(\*\.)?[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/.test(p)) {
      throw new Error(`${JSON.stringify(p)} is not a registry host[:port] (a leading "*." stands for one DNS label)`);
    }
  }
  return list;
}

/**
 * The registries flag as commander keeps it: parseRegistryList's answer with
 * ["*"] for any (commander turns a parser's null into ""). `registriesOf`
 * turns it back.
 */
export function parseRegistryFlag(text: string): string[] {
  return parseRegistryList(text) ?? ['*'];
}

export function registriesOf(flag: readonly string[]): string[] | null {
  return flag.includes('*') ? null : [...flag];
}

/** A comma-separated list of hosts, lower-cased, empty entries dropped. */
export function parseHostList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** The docker config the docker CLI reads: $DOCKER_CONFIG/config.json, else ~/.docker/config.json, when it exists. */
export function defaultDockerConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = path.join(env.DOCKER_CONFIG ?? path.join(homedir(), '.docker'), 'config.json');
  return existsSync(file) ? file : undefined;
}

/** Checks a configuration before anything runs (a bad platform or timeout is a usage error). */
export function checkImageLookupConfig(config: ImageLookupConfig): void {
  parsePlatform(config.platform);
  if (!Number.isInteger(config.timeoutMs) || config.timeoutMs < 1)
    throw new Error(`the image lookup timeout must be a positive number of milliseconds, got ${config.timeoutMs}`);
}

/** The source a face reads image facts from, with its own cache. */
export function imageFactsSource(config: ImageLookupConfig, options: { kubeConfig?: k8s.KubeConfig } = {}): ImageFactsSource {
  checkImageLookupConfig(config);
  if (config.registries !== null && config.registries.length === 0) {
    return new NoImageFacts('belay contacts no registry (image lookups are off: --image-registries none)');
  }
  const resolver = new ImageFactsResolver({
    platform: config.platform,
    timeoutMs: config.timeoutMs,
    deadlineMs: config.timeoutMs,
    insecureRegistries: config.insecureRegistries,
    ...(config.registries !== null ? { allowRegistries: config.registries } : {}),
  });
  const credentials: CredentialSource[] = [];
  if (config.dockerConfig) credentials.push(new DockerConfigCredentials(config.dockerConfig));
  if (config.pullSecrets && options.kubeConfig) credentials.push(new PullSecretCredentials(kubePullSecretReader(options.kubeConfig)));
  return new RegistryImageFacts({ resolver, credentials, budgetMs: config.timeoutMs });
}
