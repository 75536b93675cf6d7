// The serve flags for image facts, mapped to the GatewayConfig: defaults,
// "*" and "none", a bad registry pattern refused as a usage error.

import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { PUBLIC_REGISTRIES } from '../src/images/config.js';
import { addServeFlags, configFromFlags, DEFAULTS, type ServeFlags } from './config.js';

function parse(args: string[]): ReturnType<typeof configFromFlags> {
  const command = addServeFlags(new Command('serve').exitOverride().configureOutput({ writeErr: () => {} }));
  command.parse(args, { from: 'user' });
  return configFromFlags(command.opts<ServeFlags>());
}

describe('image lookup flags', () => {
  it('default to the public registries, pull secrets on, 2 s for a request', () => {
    expect(parse([]).images).toEqual({
      registries: PUBLIC_REGISTRIES,
      insecureRegistries: [],
      dockerConfig: undefined,
      pullSecrets: true,
      platform: 'linux/amd64',
      timeoutMs: 2000,
    });
    expect(DEFAULTS.images.timeoutMs).toBeLessThan(5000); // inside the webhooks' timeoutSeconds: 5
  });

  it('map every flag', () => {
    const images = parse([
      '--image-registries',
      'registry.corp.example:5000,*.pkg.dev',
      '--insecure-registries',
      'registry.corp.example:5000',
      '--docker-config',
      '/etc/belay/docker/config.json',
      '--no-image-pull-secrets',
      '--image-platform',
      'linux/arm64/v8',
      '--image-timeout',
      '1500ms',
    ]).images;
    expect(images).toEqual({
      registries: ['registry.corp.example:5000', '*.pkg.dev'],
      insecureRegistries: ['registry.corp.example:5000'],
      dockerConfig: '/etc/belay/docker/config.json',
      pullSecrets: false,
      platform: 'linux/arm64/v8',
      timeoutMs: 1500,
    });
    expect(parse(['--image-registries', '*']).images.registries).toBeNull();
    expect(parse(['--image-registries', 'none']).images.registries).toEqual([]);
  });

  it('refuse what cannot work', () => {
    expect(() => parse(['--image-registries', 'https://quay.io'])).toThrow(/--image-registries: "https:\/\/quay.io" is not a registry host/);
    expect(() => parse(['--image-platform', 'amd64'])).toThrow(/platform must be os\/architecture/);
    expect(() => parse(['--image-timeout', 'soon'])).toThrow();
  });
});
