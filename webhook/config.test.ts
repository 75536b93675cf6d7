// The serve command's flags as a GatewayConfig: the mode chosen explicitly,
// TLS mode self and its contradictions, the overlay and the console switch;
// the image lookup flags: defaults, "*" and "none", a bad registry pattern refused.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { PodEnvironment } from '../src/cluster/access.js';
import { PUBLIC_REGISTRIES } from '../src/images/config.js';
import { addServeFlags, configFromFlags, DEFAULTS, type ServeFlags } from './config.js';

const laptop: PodEnvironment = { serviceHost: undefined, servicePort: undefined, pathPrefix: '/nonexistent' };

function flags(argv: string[]): ServeFlags {
  const c = addServeFlags(new Command('serve').exitOverride());
  c.parse(argv, { from: 'user' });
  return c.opts<ServeFlags>();
}

const config = (argv: string[], pod: PodEnvironment = laptop) => configFromFlags(flags(argv), undefined, pod);

describe('belay serve flags', () => {
  it('maps --local, --kubeconfig, --no-console and --config-overlay', () => {
    const local = config(['--local', '--config-overlay', '/etc/belay/config/overlay.json', '--no-console']);
    expect(local.cluster).toEqual({ kind: 'local' });
    expect(local.configOverlay).toBe('/etc/belay/config/overlay.json');
    expect(local.console.enabled).toBe(false);
    expect(local.tlsSecret).toBeNull();
    const cluster = config(['--kubeconfig', '/k']);
    expect(cluster.cluster).toEqual({ kind: 'kubeconfig', file: '/k' });
    expect(cluster.console.enabled).toBe(true);
    expect(cluster.configOverlay).toBeNull();
  });

  it('maps TLS mode self as the chart passes it (each flag repeated with =)', () => {
    const c = config([
      '--kubeconfig=/k',
      '--tls-secret=belay-tls',
      '--tls-cert-duration=30s',
      '--tls-ca-duration=100s',
      '--tls-san=belay.belay.svc',
      '--tls-san=10.0.0.10',
      '--ca-bundle-webhook=mutating/belay',
      '--ca-bundle-webhook=validating/belay-approvals',
      '--ca-configmap=belay-authorization',
    ]);
    expect(c.tlsSecret).toEqual({
      name: 'belay-tls',
      hosts: ['belay.belay.svc', '10.0.0.10'],
      certValidityMs: 30_000,
      caValidityMs: 100_000,
      webhooks: [
        { kind: 'mutating', name: 'belay' },
        { kind: 'validating', name: 'belay-approvals' },
      ],
      configMap: 'belay-authorization',
    });
    expect(config(['--kubeconfig=/k', '--tls-secret=t', '--tls-san=x']).tlsSecret).toMatchObject({
      certValidityMs: 2160 * 3_600_000,
      caValidityMs: 87600 * 3_600_000,
    });
  });

  it.each([
    [['--kubeconfig=/k', '--tls-secret=t', '--tls-san=x', '--tls-dir=/etc/belay/tls'], /--tls-secret and --tls-dir contradict/],
    [['--kubeconfig=/k', '--tls-secret=t'], /--tls-secret needs the names .* --tls-san/],
    [['--kubeconfig=/k', '--tls-san=x'], /--tls-san is for TLS mode self: add --tls-secret/],
    [['--kubeconfig=/k', '--tls-secret=t', '--tls-san=x', '--ca-bundle-webhook=belay'], /mutating\/NAME or validating\/NAME/],
    [['--kubeconfig=/k', '--tls-secret=t', '--tls-san=x', '--tls-cert-duration=5s'], /at least 20s/],
    [
      ['--kubeconfig=/k', '--tls-secret=t', '--tls-san=x', '--tls-cert-duration=2h', '--tls-ca-duration=1h'],
      /--tls-ca-duration must be at least --tls-cert-duration/,
    ],
    [['--local', '--kubeconfig=/k'], /contradict/],
    [['--kubeconfig=/k', '--dev-tokens=/d'], /--dev-tokens is for local mode/],
    [[], /--local/],
  ])('refuses %j', (argv, message) => {
    expect(() => config(argv)).toThrow(message);
  });

  it('takes the approvals namespace from the pod’s service account when not given', () => {
    const prefix = mkdtempSync(path.join(tmpdir(), 'belay-config-'));
    try {
      const sa = path.join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
      mkdirSync(sa, { recursive: true });
      writeFileSync(path.join(sa, 'token'), 't');
      writeFileSync(path.join(sa, 'namespace'), 'belay-system');
      const pod: PodEnvironment = { serviceHost: '10.0.0.1', servicePort: '443', pathPrefix: prefix };
      expect(config([], pod)).toMatchObject({ cluster: { kind: 'in-cluster', pathPrefix: prefix }, approvals: { namespace: 'belay-system' } });
      expect(config(['--approvals-namespace=elsewhere'], pod).approvals.namespace).toBe('elsewhere');
      expect(config(['--local']).approvals.namespace).toBe('belay');
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});

const parse = (argv: string[]) => config(['--local', ...argv]);

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

  it('maps decision-log shipping: the service, its spool and fsync policy, labels; no service, no shipping', () => {
    expect(config(['--local']).decisionShipping).toBeNull();
    const c = config([
      '--local',
      '--decision-log-service=https://logs.example:8443',
      '--decision-log-service-ca=/ca.pem',
      '--decision-log-spool=/var/spool/belay',
      '--decision-log-spool-max-bytes=1048576',
      '--decision-log-fsync=always',
      '--decision-log-label=cluster=prod',
      '--decision-log-label=region=eu',
      '--decision-log-backoff-max=30s',
    ]);
    expect(c.decisionShipping).toEqual({
      url: 'https://logs.example:8443/',
      resource: '/logs',
      caFile: '/ca.pem',
      tokenFile: undefined,
      spoolDir: '/var/spool/belay',
      spoolMaxBytes: 1048576,
      fsync: 'always',
      fsyncIntervalMs: 1000,
      labels: { cluster: 'prod', region: 'eu' },
      backoffMaxMs: 30_000,
    });
    expect(() => config(['--local', '--decision-log-service=ftp://x'])).toThrow(/http or https URL/);
    expect(() => config(['--local', '--decision-log-service=http://x', '--decision-log-label=novalue'])).toThrow(/key=value/);
    expect(() => flags(['--decision-log-fsync=sometimes'])).toThrow();
  });

  it('maps the shutdown delay and grace; a delay may be zero, a grace may not', () => {
    expect(config(['--local']).shutdown).toEqual({ delayMs: 2_000, graceMs: 15_000 });
    expect(config(['--local', '--shutdown-delay', '0s', '--shutdown-grace', '30s']).shutdown).toEqual({ delayMs: 0, graceMs: 30_000 });
    expect(config(['--local', '--shutdown-delay', '0']).shutdown.delayMs).toBe(0);
    expect(() => flags(['--shutdown-grace', '0s'])).toThrow();
    expect(() => flags(['--shutdown-delay', 'soon'])).toThrow();
  });
});
