// Outcome records in the cluster (belay.dev/v1alpha1 outcomes), through
// @kubernetes/client-node: exclusive create by name, optimistic concurrency
// on status, the state label the leader lists by, paged lists (a record may
// carry a rollback source of up to 128 KiB, so a page is bounded), and a
// watch of the records still to be watched.

import * as k8s from '@kubernetes/client-node';
import { call, deleteCustomObject } from '../approvals/kube-store.js';
import { BelayError } from '../errors.js';
import { OUTCOME_GROUP, OUTCOME_LABELS, OUTCOME_PLURAL, OUTCOME_VERSION, type OutcomeRecord } from './resource.js';

export type RecordState = 'watching' | 'finished';

export interface OutcomePage {
  items: OutcomeRecord[];
  /** Set when there is more: pass it back for the next page. */
  continue?: string;
  resourceVersion?: string;
}

export interface OutcomeStore {
  /** Creates it, or returns the one that already has its name (`created: false`). */
  create(record: OutcomeRecord): Promise<{ record: OutcomeRecord; created: boolean }>;
  get(namespace: string, name: string): Promise<OutcomeRecord | undefined>;
  /** Replaces the whole record (spec and metadata) if its resourceVersion is current; throws `conflict` otherwise. */
  replace(record: OutcomeRecord): Promise<OutcomeRecord>;
  /** Writes status if the resourceVersion is current; throws `conflict` otherwise. */
  replaceStatus(record: OutcomeRecord): Promise<OutcomeRecord>;
  /** Sets the state label. */
  setState(namespace: string, name: string, state: RecordState): Promise<void>;
  /** One page of records in a state, every namespace. */
  list(state: RecordState, options?: { limit?: number; continue?: string }): Promise<OutcomePage>;
  /** Deletes one, if resourceVersion (when given) is current: true when deleted, false when it was gone. */
  delete(namespace: string, name: string, options?: { resourceVersion?: string }): Promise<boolean>;
}

const FIELD_MANAGER = 'belay';
/** Records per page: a page holds at most this many rollback sources. */
export const PAGE_SIZE = 50;

export class KubeOutcomeStore implements OutcomeStore {
  #api: k8s.CustomObjectsApi;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.#api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  async create(record: OutcomeRecord): Promise<{ record: OutcomeRecord; created: boolean }> {
    const { namespace, name } = record.metadata;
    try {
      const created = (await call(`create outcome ${namespace}/${name}`, () =>
        this.#api.createNamespacedCustomObject({ ...where(namespace), body: record, fieldManager: FIELD_MANAGER }),
      )) as OutcomeRecord;
      return { record: created, created: true };
    } catch (err) {
      if (!(err instanceof BelayError) || err.code !== 'conflict') throw err;
      const existing = await this.get(namespace, name);
      if (!existing) throw err;
      return { record: existing, created: false };
    }
  }

  async get(namespace: string, name: string): Promise<OutcomeRecord | undefined> {
    try {
      return (await call(`get outcome ${namespace}/${name}`, () => this.#api.getNamespacedCustomObject({ ...where(namespace), name }))) as OutcomeRecord;
    } catch (err) {
      if (err instanceof BelayError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async replace(record: OutcomeRecord): Promise<OutcomeRecord> {
    const { namespace, name } = record.metadata;
    return (await call(`update outcome ${namespace}/${name}`, () =>
      this.#api.replaceNamespacedCustomObject({ ...where(namespace), name, body: record, fieldManager: FIELD_MANAGER }),
    )) as OutcomeRecord;
  }

  async replaceStatus(record: OutcomeRecord): Promise<OutcomeRecord> {
    const { namespace, name } = record.metadata;
    return (await call(`update outcome ${namespace}/${name} status`, () =>
      this.#api.replaceNamespacedCustomObjectStatus({ ...where(namespace), name, body: record, fieldManager: FIELD_MANAGER }),
    )) as OutcomeRecord;
  }

  async setState(namespace: string, name: string, state: RecordState): Promise<void> {
    await call(`label outcome ${namespace}/${name} ${state}`, () =>
      this.#api.patchNamespacedCustomObject(
        { ...where(namespace), name, body: { metadata: { labels: { [OUTCOME_LABELS.state]: state } } }, fieldManager: FIELD_MANAGER },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
  }

  async list(state: RecordState, options: { limit?: number; continue?: string } = {}): Promise<OutcomePage> {
    const list = (await call(`list ${state} outcomes`, () =>
      this.#api.listCustomObjectForAllNamespaces({
        group: OUTCOME_GROUP,
        version: OUTCOME_VERSION,
        plural: OUTCOME_PLURAL,
        labelSelector: `${OUTCOME_LABELS.state}=${state}`,
        limit: options.limit ?? PAGE_SIZE,
        ...(options.continue ? { _continue: options.continue } : {}),
      }),
    )) as { items?: OutcomeRecord[]; metadata?: { continue?: string; resourceVersion?: string } };
    return {
      items: Array.isArray(list.items) ? list.items : [],
      ...(list.metadata?.continue ? { continue: list.metadata.continue } : {}),
      ...(list.metadata?.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}),
    };
  }

  delete(namespace: string, name: string, options: { resourceVersion?: string } = {}): Promise<boolean> {
    return deleteCustomObject(this.#api, `delete outcome ${namespace}/${name}`, { ...where(namespace), name }, options.resourceVersion);
  }
}

function where(namespace: string) {
  return { group: OUTCOME_GROUP, version: OUTCOME_VERSION, namespace, plural: OUTCOME_PLURAL };
}

/** Every record in `state`, page by page; `each` sees one page at a time. */
export async function forEachPage(
  store: Pick<OutcomeStore, 'list'>,
  state: RecordState,
  each: (items: OutcomeRecord[]) => Promise<void> | void,
): Promise<string | undefined> {
  let token: string | undefined;
  let version: string | undefined;
  do {
    const page = await store.list(state, token ? { continue: token } : {});
    version ??= page.resourceVersion;
    await each(page.items);
    token = page.continue;
  } while (token);
  return version;
}
