// Keeps data.inventory current in every evaluator: the objects of the kinds
// the active bundle's sync set names (a Gatekeeper Config under
// policies/gatekeeper/), watched on the API server, or read from files in
// local mode. Changes are debounced and handed to the active evaluator as one
// JSON document (each worker then replaces its wasm data: the bundle's own
// data with the inventory in front); a newly activated bundle gets the current
// inventory at once. Why not an input field: the inventory is the same for
// every request, so moving it with each request would cost its whole size per
// request, while a data swap costs it once per change (see the README).

import * as k8s from '@kubernetes/client-node';
import type { PolicyStore } from '../bundle/active.js';
import type { JsonObject } from '../contract/index.js';
import { Inventory } from './inventory.js';
import { readYamlDocuments, type SyncKind } from './resources.js';

export interface InventoryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface InventorySyncOptions {
  store: PolicyStore;
  /** Cluster mode: watch the sync set's kinds. */
  kubeConfig?: k8s.KubeConfig;
  /** Local mode: YAML objects (a file or a folder) that make up the inventory. */
  files?: string;
  /** Bound on the serialised inventory; objects past it are left out (and logged). */
  maxBytes: number;
  debounceMs?: number;
  log: InventoryLog;
}

export interface InventorySync {
  readonly inventory: Inventory;
  /** Resolves once the kinds watched at start have been listed (cluster mode), or the files read. */
  readonly ready: Promise<void>;
  close(): void;
}

export const DEFAULT_INVENTORY_MAX_BYTES = 64 * 1024 * 1024;

/** The sync set of a bundle's data (data.gatekeeper.sync). */
export function syncKindsOf(data: JsonObject | undefined): SyncKind[] {
  const sync = (data?.gatekeeper as JsonObject | undefined)?.sync;
  return Array.isArray(sync) ? (sync as SyncKind[]) : [];
}

const keyOf = (k: SyncKind) => `${k.group}/${k.version}/${k.kind}`;

export function startInventorySync(options: InventorySyncOptions): InventorySync {
  const inventory = new Inventory(options.maxBytes);
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let pushed = -1;
  let droppedLogged = 0;
  let closed = false;

  const push = (force = false) => {
    timer = undefined;
    const active = options.store.current();
    if (!active?.evaluator.setInventory) return;
    if (!force && pushed === inventory.version) return;
    pushed = inventory.version;
    active.evaluator.setInventory(JSON.stringify(inventory.document()));
    const stats = inventory.stats();
    if (stats.dropped > droppedLogged) {
      droppedLogged = stats.dropped;
      options.log.warn({ ...stats, maxBytes: options.maxBytes }, 'Gatekeeper inventory is full; objects past the bound are left out of data.inventory');
    }
  };
  const schedule = () => {
    if (!closed && !timer) timer = setTimeout(() => push(), debounceMs);
  };

  const informers = new Map<string, { stop(): void }>();
  const watchKinds = async (kinds: SyncKind[]) => {
    const kc = options.kubeConfig;
    if (!kc) return;
    const wanted = new Map(kinds.map((k) => [keyOf(k), k]));
    for (const [key, informer] of informers) {
      if (!wanted.has(key)) {
        informer.stop();
        informers.delete(key);
      }
    }
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    await Promise.all(
      [...wanted]
        .filter(([key]) => !informers.has(key))
        .map(async ([key, kind]) => {
          const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
          // Discovery (the resource's plural) is KubernetesObjectApi's own, protected, lookup.
          const discovery = objects as unknown as { resource(apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> };
          const resource = await discovery.resource(apiVersion, kind.kind).catch(() => undefined);
          if (!resource) {
            options.log.warn({ apiVersion, kind: kind.kind }, 'Gatekeeper sync kind not served by the API server; not in data.inventory');
            return;
          }
          const listPath = `${kind.group ? `/apis/${apiVersion}` : '/api/v1'}/${resource.name}`;
          const informer = k8s.makeInformer(kc, listPath, () => objects.list(apiVersion, kind.kind) as never);
          const put = (o: k8s.KubernetesObject) => {
            inventory.put({ ...(o as JsonObject), apiVersion, kind: kind.kind });
            schedule();
          };
          informer.on('add', put);
          informer.on('update', put);
          informer.on('delete', (o) => {
            inventory.remove({ ...(o as JsonObject), apiVersion, kind: kind.kind });
            schedule();
          });
          informer.on('error', (err) => {
            if (closed || !informers.has(key)) return;
            options.log.warn({ err, apiVersion, kind: kind.kind }, 'Gatekeeper inventory watch failed; retrying');
            setTimeout(() => void informer.start().catch(() => undefined), 3_000).unref();
          });
          informers.set(key, { stop: () => void informer.stop() });
          await informer.start();
        }),
    );
  };

  let ready: Promise<void>;
  if (options.files) {
    for (const { doc } of readYamlDocuments(options.files)) inventory.put(doc);
    options.log.info({ files: options.files, ...inventory.stats() }, 'Gatekeeper inventory read from files');
    ready = Promise.resolve();
  } else {
    ready = watchKinds(syncKindsOf(options.store.current()?.data));
  }
  let kindsKey = syncKindsOf(options.store.current()?.data).map(keyOf).sort().join(',');
  options.store.onChange((event) => {
    if (!('active' in event)) return;
    // A new bundle starts with no inventory: give it the current one now.
    push(true);
    const next = syncKindsOf(event.active.data);
    const key = next.map(keyOf).sort().join(',');
    if (key !== kindsKey) {
      kindsKey = key;
      void watchKinds(next).catch((err) => options.log.warn({ err }, 'Gatekeeper inventory watch could not start'));
    }
  });
  void ready
    .then(() => {
      push(true);
      options.log.info({ kinds: [...informers.keys()], ...inventory.stats() }, 'Gatekeeper inventory synced');
    })
    .catch((err) => options.log.warn({ err }, 'Gatekeeper inventory watch could not start'));

  return {
    inventory,
    ready,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const i of informers.values()) i.stop();
      informers.clear();
    },
  };
}
