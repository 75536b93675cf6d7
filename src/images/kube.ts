// Pull secrets from the API server: a service account's imagePullSecrets and
// the Secrets they name, read with the gateway's identity (RBAC: get on
// secrets and serviceaccounts, manifests/rbac/pull-secrets.yaml). Each read
// is bounded by the request's signal; a missing object is null.

import * as k8s from '@kubernetes/client-node';
import type { PullSecretReader } from './source.js';

export function kubePullSecretReader(kubeConfig: k8s.KubeConfig): PullSecretReader {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    async serviceAccountPullSecrets(namespace, name, signal) {
      const sa = await bounded(api.readNamespacedServiceAccount({ name, namespace }), signal);
      if (!sa) return null;
      return (sa.imagePullSecrets ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string' && n !== '');
    },
    async secret(namespace, name, signal) {
      const s = await bounded(api.readNamespacedSecret({ name, namespace }), signal);
      if (!s) return null;
      return { metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace }, type: s.type, data: s.data };
    },
  };
}

/** The call's answer, null for 404, or a rejection when the signal fires first (the call is left to finish). */
async function bounded<T>(call: Promise<T>, signal: AbortSignal): Promise<T | null> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('the API server did not answer in time'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call, aborted]);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return null;
    throw err;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    call.catch(() => {});
  }
}
