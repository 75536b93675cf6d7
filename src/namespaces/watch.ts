// Keeps namespace labels in memory from a list+watch (an informer) through
// @kubernetes/client-node.

import * as k8s from '@kubernetes/client-node';
import type { NamespaceInfo } from '../contract/index.js';
import type { NamespaceDirectory } from './directory.js';

export interface WatchOptions {
  onError?: (err: unknown) => void;
}

export async function watchNamespaces(kubeConfig: k8s.KubeConfig, options: WatchOptions = {}): Promise<NamespaceDirectory> {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kubeConfig, '/api/v1/namespaces', () => api.listNamespace());
  const labels = new Map<string, Record<string, string>>();
  const put = (ns: k8s.V1Namespace) => {
    if (ns.metadata?.name) labels.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}) });
  };
  informer.on('add', put);
  informer.on('update', put);
  informer.on('delete', (ns) => {
    if (ns.metadata?.name) labels.delete(ns.metadata.name);
  });
  let closed = false;
  informer.on('error', (err) => {
    options.onError?.(err);
    // The informer stops on error; restart it after a pause, as client-go's reflector would.
    if (!closed) setTimeout(() => void informer.start().catch(options.onError), 3_000).unref();
  });
  await informer.start();
  return {
    lookup(name): NamespaceInfo | null {
      if (!name) return null;
      const l = labels.get(name);
      return l ? { name, labels: l } : { name, labels: {} };
    },
    close() {
      closed = true;
      void informer.stop();
    },
  };
}
