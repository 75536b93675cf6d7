// Container image references as the kubelet and container runtimes read them
// (docker/distribution's normalisation): `nginx` is docker.io/library/nginx:latest,
// a first component with a dot, a colon or `localhost` names the registry.

export interface ImageReference {
  /** The reference as written in the pod spec. */
  readonly original: string;
  /** The registry as credentials name it: `docker.io` for Docker Hub, else host[:port]. */
  readonly registry: string;
  /** Repository path inside the registry (`library/nginx`). */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** Fully qualified: registry/repository followed by :tag and/or @digest. */
  readonly canonical: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;

/** Docker Hub's names for itself, all spelled `docker.io` here. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

export class ImageReferenceError extends Error {
  override name = 'ImageReferenceError';
}

/** Parses and normalises an image reference; throws ImageReferenceError when it is not one. */
export function parseImageReference(original: string): ImageReference {
  const ref = original.trim();
  if (!ref || ref.length > 4096) throw new ImageReferenceError(`not an image reference: ${JSON.stringify(original.slice(0, 80))}`);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageReferenceError(`${JSON.stringify(original)} has an invalid digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageReferenceError(`${JSON.stringify(original)} has an invalid tag`);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let registry = 'docker.io';
  let repository = rest;
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!HOST.test(first)) throw new ImageReferenceError(`${JSON.stringify(original)} names an invalid registry host`);
    registry = DOCKER_HUB.has(first.toLowerCase()) ? 'docker.io' : first.toLowerCase();
    repository = rest.slice(slash + 1);
  }
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '' || !repository.split('/').every((c) => COMPONENT.test(c))) {
    throw new ImageReferenceError(`${JSON.stringify(original)} has an invalid repository name (lower-case letters, digits and . _ - separators)`);
  }
  if (!tag && !digest) tag = 'latest';
  const canonical = `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { original: ref, registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), canonical };
}

/** The host that serves a registry's API (Docker Hub's API is not on docker.io). */
export function registryEndpoint(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/** Registries on the loopback interface speak plain HTTP unless told otherwise (as crane and docker do). */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
