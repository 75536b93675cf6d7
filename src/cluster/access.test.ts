import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseClusterAccess, clientClusterAccess, loadKubeConfig, ownNamespace, type PodEnvironment, SERVICE_ACCOUNT_DIR } from './access.js';

let prefix: string;
let empty: string;

beforeAll(() => {
  prefix = mkdtempSync(path.join(tmpdir(), 'belay-sa-'));
  const dir = path.join(prefix, SERVICE_ACCOUNT_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'token'), 'a-token');
  writeFileSync(path.join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(path.join(dir, 'namespace'), 'belay-system\n');
  empty = mkdtempSync(path.join(tmpdir(), 'belay-nosa-'));
});

afterAll(() => {
  rmSync(prefix, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

const pod = (pathPrefix: string): PodEnvironment => ({ serviceHost: '10.0.0.1', servicePort: '443', pathPrefix });
const laptop: PodEnvironment = { serviceHost: undefined, servicePort: undefined, pathPrefix: '' };

describe('the cluster the gateway uses', () => {
  it('is the pod’s service account in a pod, unless --kubeconfig or --local says otherwise', () => {
    expect(chooseClusterAccess({}, pod(prefix))).toEqual({ kind: 'in-cluster', pathPrefix: prefix });
    expect(chooseClusterAccess({ kubeconfig: '/k' }, pod(prefix))).toEqual({ kind: 'kubeconfig', file: '/k' });
    expect(chooseClusterAccess({ local: true }, pod(prefix))).toEqual({ kind: 'local' });
  });

  it('is local only when asked: with nothing said outside a pod it refuses, saying what to pass', () => {
    expect(chooseClusterAccess({ local: true }, laptop)).toEqual({ kind: 'local' });
    expect(() => chooseClusterAccess({}, laptop)).toThrow(/run it in a pod.*--kubeconfig FILE.*--local/);
  });

  it('never falls back to local in a pod without a token', () => {
    expect(() => chooseClusterAccess({}, pod(empty))).toThrow(
      /KUBERNETES_SERVICE_HOST is set but there is no service-account token at .*token.*never falls back/,
    );
  });

  it('refuses --local with --kubeconfig', () => {
    expect(() => chooseClusterAccess({ local: true, kubeconfig: '/k' }, laptop)).toThrow(/contradict/);
  });

  it('gives the CLI the pod’s service account in a pod, the local store elsewhere', () => {
    expect(clientClusterAccess(undefined, pod(prefix))).toEqual({ kind: 'in-cluster', pathPrefix: prefix });
    expect(clientClusterAccess(undefined, laptop)).toEqual({ kind: 'local' });
    expect(clientClusterAccess('/k', pod(prefix))).toEqual({ kind: 'kubeconfig', file: '/k' });
  });

  it('loads the in-cluster configuration from the path prefix, and the namespace from its file', () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '6443';
    try {
      const access = { kind: 'in-cluster', pathPrefix: prefix } as const;
      const kc = loadKubeConfig(access)!;
      expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
      expect(kc.getCurrentCluster()?.caFile).toBe(path.join(prefix, SERVICE_ACCOUNT_DIR, 'ca.crt'));
      expect(ownNamespace(access, kc)).toBe('belay-system');
      expect(() => loadKubeConfig({ kind: 'in-cluster', pathPrefix: empty })).toThrow(/token is missing|is missing/);
    } finally {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('says which kubeconfig it cannot read', () => {
    expect(() => loadKubeConfig({ kind: 'kubeconfig', file: path.join(empty, 'nope') })).toThrow(/cannot read kubeconfig .*nope/);
    expect(loadKubeConfig({ kind: 'local' })).toBeUndefined();
  });
});
