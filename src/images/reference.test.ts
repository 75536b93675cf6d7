import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseImageReference, registryEndpoint } from './reference.js';

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['ghcr.io/org/app:v1', 'ghcr.io/org/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/team/app:2', '127.0.0.1:5000/team/app:2'],
    [`registry.k8s.io/pause:3.9@sha256:${'a'.repeat(64)}`, `registry.k8s.io/pause:3.9@sha256:${'a'.repeat(64)}`],
    [`quay.io/app@sha256:${'b'.repeat(64)}`, `quay.io/app@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (ref, canonical) => {
    expect(parseImageReference(ref).canonical).toBe(canonical);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseImageReference('registry.example.com:5000/team/app:1.0')).toEqual({
      original: 'registry.example.com:5000/team/app:1.0',
      registry: 'registry.example.com:5000',
      repository: 'team/app',
      tag: '1.0',
      canonical: 'registry.example.com:5000/team/app:1.0',
    });
  });

  it.each(['', 'Nginx', 'app:', 'app@sha256:xyz', 'a b', 'app:-bad', 'example.com/UPPER/app'])('refuses %j', (ref) => {
    expect(() => parseImageReference(ref)).toThrow(/image reference|invalid/);
  });

  it('knows Docker Hub’s API host and loopback registries', () => {
    expect(registryEndpoint('docker.io')).toBe('registry-1.docker.io');
    expect(registryEndpoint('ghcr.io')).toBe('ghcr.io');
    expect(['localhost:5000', '127.0.0.1:18900', '[::1]:5000', 'registry.local'].map(isLoopbackHost)).toEqual([true, true, true, false]);
  });
});
