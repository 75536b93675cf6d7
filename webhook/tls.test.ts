// Which certificate the gateway serves in files mode: a development CA outside
// a pod, never one in a pod (there the files come from cert-manager or an
// existing Secret, and their absence keeps the gateway not ready).

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import { writeVolume } from '../src/testkit/volume.js';
import { issueServingCertificate, newCertificateAuthority } from '../src/tls/pki.js';
import { resolveConfig } from './config.js';
import { startServingCertificates } from './tls.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-tls-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deps = (kind: 'local' | 'in-cluster') => ({
  cluster: kind === 'local' ? ({ kind } as const) : ({ kind, pathPrefix: '' } as const),
  kubeConfig: undefined,
  namespace: 'belay',
  log: silentLogger,
  metrics: new Metrics(),
});

describe('TLS from files (--tls-dir)', () => {
  it('makes a development CA outside a pod', async () => {
    const tls = path.join(dir, 'dev');
    const certs = await startServingCertificates(resolveConfig({ tlsDir: tls }), deps('local'));
    try {
      expect(certs.source.current()?.facts.hosts).toEqual(['localhost', '127.0.0.1']);
      expect(certs.caFile).toBe(path.join(tls, 'ca.crt'));
    } finally {
      await certs.close();
    }
  });

  it('in a pod makes nothing, is not ready while the files are missing, and serves them once the Secret volume has them', async () => {
    // The mount point exists (an empty volume, or a Secret not issued yet).
    const tls = path.join(dir, 'mounted');
    mkdirSync(tls);
    const certs = await startServingCertificates(resolveConfig({ tlsDir: tls }), deps('in-cluster'));
    try {
      expect(certs.source.current()).toBeUndefined();
      expect(certs.source.problem()).toMatch(new RegExp(`TLS files in ${tls}: cannot read .*tls.crt`));
      expect(readdirSync(tls)).toEqual([]);
      const ca = newCertificateAuthority({ commonName: 'cert-manager CA', validityMs: 3_600_000 });
      const pair = issueServingCertificate({ ca, hosts: ['belay.belay.svc'], validityMs: 3_600_000 });
      writeVolume(tls, { 'tls.crt': pair.cert, 'tls.key': pair.key, 'ca.crt': ca.cert });
      const deadline = Date.now() + 15_000;
      while (!certs.source.current() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(certs.source.current()?.facts.hosts).toEqual(['belay.belay.svc']);
      expect(certs.source.problem()).toBeUndefined();
      expect(
        readdirSync(tls)
          .filter((f) => !f.startsWith('..'))
          .sort(),
      ).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    } finally {
      await certs.close();
    }
  });

  it('refuses TLS mode self without a cluster', async () => {
    const config = resolveConfig({
      tlsSecret: { name: 'belay-tls', hosts: ['x'], certValidityMs: 60_000, caValidityMs: 600_000, webhooks: [], configMap: undefined },
    });
    await expect(startServingCertificates(config, deps('local'))).rejects.toThrow(/--tls-secret needs a cluster/);
  });
});
