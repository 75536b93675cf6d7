// ApprovalRequests in a cluster, through @kubernetes/client-node. The API
// server provides what the local store emulates: exclusive create by name
// (AlreadyExists), optimistic concurrency on status (resourceVersion), and —
// through belay's webhook on approvalrequests/status — separation of duties
// for the authenticated caller.

import * as k8s from '@kubernetes/client-node';
import { BelayError, type ErrorCode } from '../errors.js';
import type { UserInfo } from '../identity/agents.js';
import { APPROVAL_GROUP, APPROVAL_PLURAL, APPROVAL_VERSION, type ApprovalRequest, type ApprovalStatus, LABELS, rfc3339 } from './resource.js';
import type { ApprovalStore, HumanDecision } from './store.js';

const FIELD_MANAGER = 'belay';

export class KubeApprovalStore implements ApprovalStore {
  readonly kind = 'cluster' as const;
  readonly location: string;
  #api: k8s.CustomObjectsApi;
  #auth: k8s.AuthenticationV1Api;
  #self: Promise<string | undefined> | undefined;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.#api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#auth = kubeConfig.makeApiClient(k8s.AuthenticationV1Api);
    this.location = kubeConfig.getCurrentCluster()?.server ?? 'the cluster';
  }

  async listByTarget(namespace: string, target: string): Promise<ApprovalRequest[]> {
    // A list without resourceVersion is served from etcd (consistent), not a cache.
    const list = await call(`list approvals in ${namespace}`, () =>
      this.#api.listNamespacedCustomObject({ ...where(namespace), labelSelector: `${LABELS.target}=${target}` }),
    );
    return items(list);
  }

  async listByRequester(requester: string): Promise<ApprovalRequest[]> {
    const list = await call('list approvals by requester', () =>
      this.#api.listCustomObjectForAllNamespaces({
        group: APPROVAL_GROUP,
        version: APPROVAL_VERSION,
        plural: APPROVAL_PLURAL,
        labelSelector: `${LABELS.requester}=${requester}`,
      }),
    );
    return items(list);
  }

  async list(namespace?: string): Promise<ApprovalRequest[]> {
    const list = await call(`list approvals${namespace ? ` in ${namespace}` : ''}`, () =>
      namespace
        ? this.#api.listNamespacedCustomObject(where(namespace))
        : this.#api.listCustomObjectForAllNamespaces({ group: APPROVAL_GROUP, version: APPROVAL_VERSION, plural: APPROVAL_PLURAL }),
    );
    return items(list);
  }

  async get(namespace: string, name: string): Promise<ApprovalRequest | undefined> {
    try {
      return (await call(`get approval ${namespace}/${name}`, () => this.#api.getNamespacedCustomObject({ ...where(namespace), name }))) as ApprovalRequest;
    } catch (err) {
      if (err instanceof BelayError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async create(request: ApprovalRequest): Promise<{ request: ApprovalRequest; created: boolean }> {
    const { namespace, name } = request.metadata;
    try {
      const created = (await call(`create approval ${namespace}/${name}`, () =>
        this.#api.createNamespacedCustomObject({ ...where(namespace), body: request, fieldManager: FIELD_MANAGER }),
      )) as ApprovalRequest;
      return { request: created, created: true };
    } catch (err) {
      if (!(err instanceof BelayError) || err.code !== 'conflict') throw err;
      // AlreadyExists: another replica (or request) created it first.
      const existing = await this.get(namespace, name);
      if (!existing) throw err;
      return { request: existing, created: false };
    }
  }

  async replaceStatus(request: ApprovalRequest): Promise<ApprovalRequest> {
    const { namespace, name } = request.metadata;
    return (await call(`update approval ${namespace}/${name} status`, () =>
      this.#api.replaceNamespacedCustomObjectStatus({ ...where(namespace), name, body: request, fieldManager: FIELD_MANAGER }),
    )) as ApprovalRequest;
  }

  delete(namespace: string, name: string, options: { resourceVersion?: string } = {}): Promise<boolean> {
    return deleteCustomObject(this.#api, `delete approval ${namespace}/${name}`, { ...where(namespace), name }, options.resourceVersion);
  }

  /**
   * A merge patch of status as the kubeconfig's user. decidedBy is the
   * caller as the API server knows it (SelfSubjectReview); belay's mutating
   * webhook sets it too, and its validating webhook refuses any other value.
   */
  async decide(namespace: string, name: string, decision: HumanDecision, _as: UserInfo): Promise<ApprovalRequest> {
    const self = await this.whoAmI();
    const status: Partial<ApprovalStatus> = {
      phase: decision.phase,
      ...(decision.message ? { message: decision.message } : {}),
      ...(decision.override ? { override: decision.override } : {}),
      ...(self ? { decidedBy: self, decidedAt: rfc3339(new Date()) } : {}),
    };
    return (await call(`decide approval ${namespace}/${name}`, () =>
      this.#api.patchNamespacedCustomObjectStatus(
        { ...where(namespace), name, body: { status }, fieldManager: FIELD_MANAGER },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    )) as ApprovalRequest;
  }

  /** The authenticated username of this client, or undefined when the API server will not say. */
  whoAmI(): Promise<string | undefined> {
    this.#self ??= this.#auth.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }).then(
      (r) => r.status?.userInfo?.username,
      () => undefined,
    );
    return this.#self;
  }
}

function where(namespace: string) {
  return { group: APPROVAL_GROUP, version: APPROVAL_VERSION, namespace, plural: APPROVAL_PLURAL };
}

function items(list: unknown): ApprovalRequest[] {
  const l = list as { items?: ApprovalRequest[] } | undefined;
  return Array.isArray(l?.items) ? l.items : [];
}

/**
 * Deletes one custom object; false when it was already gone. With a
 * resourceVersion the delete is conditional: the API server answers 409
 * (a conflict error) when the object changed since it was read.
 */
export async function deleteCustomObject(
  api: k8s.CustomObjectsApi,
  what: string,
  object: { group: string; version: string; namespace: string; plural: string; name: string },
  resourceVersion?: string,
): Promise<boolean> {
  try {
    await call(what, () => api.deleteNamespacedCustomObject({ ...object, ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}) }));
    return true;
  } catch (err) {
    if (err instanceof BelayError && err.code === 'not_found') return false;
    throw err;
  }
}

/** Runs an API call, turning its failure into a catalogue error that carries the API server's message. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw kubeError(what, err);
  }
}

const CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'bad_request',
  429: 'not_ready',
  503: 'not_ready',
};

export function kubeError(what: string, err: unknown): BelayError {
  if (err instanceof BelayError) return err;
  const status = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined;
  if (status !== undefined) {
    const message = apiMessage((err as { body?: unknown }).body) ?? `HTTP ${status}`;
    return new BelayError(CODES[status] ?? 'internal', `${what}: ${message}`, { cause: err, details: { status } });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new BelayError('internal', `${what}: cannot reach the API server: ${message}`, { cause: err });
}

function apiMessage(body: unknown): string | undefined {
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const m = (b as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : undefined;
}
