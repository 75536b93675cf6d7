// data.inventory: the objects Gatekeeper's referential templates read, in
// Gatekeeper's layout —
//   data.inventory.cluster[<apiVersion>][<Kind>][<name>]                 (cluster-scoped)
//   data.inventory.namespace[<namespace>][<apiVersion>][<Kind>][<name>]  (namespaced)
// kept by an Inventory as objects are put and removed (from the API server's
// watch of the sync set's kinds, or from files in local mode), with a bound
// on its serialised size. managedFields are dropped: templates never read
// them and they are most of an object's bytes.

import type { JsonObject } from '../contract/index.js';

type Meta = { name?: unknown; namespace?: unknown };

function keyOf(o: JsonObject): { apiVersion: string; kind: string; name: string; namespace: string } | null {
  const meta = (o.metadata ?? {}) as Meta;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof meta.name !== 'string' || !meta.name) return null;
  return { apiVersion: o.apiVersion, kind: o.kind, name: meta.name, namespace: typeof meta.namespace === 'string' ? meta.namespace : '' };
}

function slim(o: JsonObject): JsonObject {
  const meta = o.metadata as JsonObject | undefined;
  if (!meta || !('managedFields' in meta)) return o;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...o, metadata: rest };
}

/** Gatekeeper's inventory document for a list of objects (belay test: a case's inventory files). */
export function inventoryOf(objects: readonly JsonObject[]): JsonObject {
  const inv = new Inventory(Number.POSITIVE_INFINITY);
  for (const o of objects) inv.put(o);
  return inv.document();
}

export interface InventoryStats {
  objects: number;
  bytes: number;
  /** Objects left out because the inventory was full. */
  dropped: number;
}

export class Inventory {
  readonly #maxBytes: number;
  /** "apiVersion\0kind\0namespace\0name" → [object, its serialised size]. */
  readonly #objects = new Map<string, [JsonObject, number]>();
  #bytes = 0;
  #dropped = 0;
  #version = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bumped on every change, so a consumer can tell whether to push it again. */
  get version(): number {
    return this.#version;
  }

  stats(): InventoryStats {
    return { objects: this.#objects.size, bytes: this.#bytes, dropped: this.#dropped };
  }

  /** Adds or replaces an object; false when it would take the inventory past its bound (it is left out). */
  put(object: JsonObject): boolean {
    const k = keyOf(object);
    if (!k) return false;
    const id = `${k.apiVersion}\0${k.kind}\0${k.namespace}\0${k.name}`;
    const o = slim(object);
    const size = JSON.stringify(o).length;
    const old = this.#objects.get(id);
    if (this.#bytes - (old?.[1] ?? 0) + size > this.#maxBytes) {
      this.#dropped++;
      return false;
    }
    this.#bytes += size - (old?.[1] ?? 0);
    this.#objects.set(id, [o, size]);
    this.#version++;
    return true;
  }

  remove(object: JsonObject): void {
    const k = keyOf(object);
    if (!k) return;
    const id = `${k.apiVersion}\0${k.kind}\0${k.namespace}\0${k.name}`;
    const old = this.#objects.get(id);
    if (!old) return;
    this.#bytes -= old[1];
    this.#objects.delete(id);
    this.#version++;
  }

  /** Removes every object of one kind (a re-list replaces them). */
  clearKind(apiVersion: string, kind: string): void {
    for (const [id, [o]] of this.#objects) {
      if (o.apiVersion === apiVersion && o.kind === kind) {
        this.remove(o);
        this.#objects.delete(id);
      }
    }
  }

  document(): JsonObject {
    const cluster: Record<string, Record<string, JsonObject>> = {};
    const namespace: Record<string, Record<string, Record<string, JsonObject>>> = {};
    for (const [o] of this.#objects.values()) {
      const k = keyOf(o)!;
      let byVersion: Record<string, Record<string, JsonObject>>;
      if (k.namespace) {
        namespace[k.namespace] ??= {};
        byVersion = namespace[k.namespace]!;
      } else {
        byVersion = cluster;
      }
      byVersion[k.apiVersion] ??= {};
      const byKind = byVersion[k.apiVersion]!;
      byKind[k.kind] ??= {};
      (byKind[k.kind] as JsonObject)[k.name] = o;
    }
    return { cluster, namespace };
  }
}
