// `belay approvals apply <id>`: an approver applies an approved request
// themselves, with their own credentials (the API server authenticates and
// authorises them; belay's admission does not judge humans). Used for a
// remedy belay proposed when the agent that asked is gone or stuck. The
// object sent is the approved one (with the approver's edit, when there is
// one); an update replaces the object whole, so the live object becomes
// exactly what was approved. The replica watching outcomes sees the remedy
// land, marks the approval used and watches its outcome.

import * as k8s from '@kubernetes/client-node';
import { call } from '../approvals/kube-store.js';
import { type ApprovalRequest, isLapsed, phaseOf, refOf } from '../approvals/resource.js';
import type { JsonObject } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { applyPatch } from '../patch/apply.js';
import { targetOfRequest } from './record.js';
import { describeTarget } from './resource.js';

const FIELD_MANAGER = 'belay-approvals-apply';

/** What `apply` will send: the approved object with the approver's edit, or why it cannot. */
export function approvedObject(r: ApprovalRequest, now: Date): JsonObject | null {
  const phase = phaseOf(r);
  if (phase !== 'Approved') {
    throw new BelayError('conflict', `${refOf(r)} is ${phase}; only an Approved request can be applied${phase === 'Pending' ? ' (approve it first)' : ''}`);
  }
  if (isLapsed(r, now)) throw new BelayError('conflict', `${refOf(r)} expired at ${r.spec.requiredBy}; it can no longer be applied`);
  if (r.spec.face !== 'admission')
    throw new BelayError('bad_request', `${refOf(r)} is a ${r.spec.face} request; only an admission request names an object to apply`);
  const op = r.spec.request.operation;
  if (op === 'DELETE') return null;
  if (op !== 'CREATE' && op !== 'UPDATE') throw new BelayError('bad_request', `${refOf(r)} asks for ${op}, which belay cannot apply`);
  if (!r.spec.object) throw new BelayError('bad_request', `${refOf(r)} keeps no object to apply${r.spec.objectExcerpt ? ' (it was too large to keep)' : ''}`);
  const patch = r.status?.override?.patch;
  if (!patch?.length) return r.spec.object;
  const applied = applyPatch(r.spec.object, patch);
  if (!applied.ok) throw new BelayError('bad_request', `the approver's edit of ${refOf(r)} does not apply: ${applied.reason}`);
  return applied.value as JsonObject;
}

/** Applies an Approved request as the kubeconfig's user; returns what was done, for a person. */
export async function applyApproved(kubeConfig: k8s.KubeConfig, r: ApprovalRequest, now: Date): Promise<string> {
  const object = approvedObject(r, now);
  const q = r.spec.request;
  const target = targetOfRequest(q);
  const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const header = {
    apiVersion: target.group ? `${target.group}/${target.version}` : target.version,
    kind: target.kind,
    metadata: { name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}) },
  };
  const what = describeTarget(target);
  if (q.operation === 'DELETE') {
    await call(`delete ${what}`, () => api.delete(header));
    return `deleted ${what}`;
  }
  if (q.subresource === 'scale') {
    const replicas = ((object!.spec ?? {}) as JsonObject).replicas;
    if (typeof replicas !== 'number') throw new BelayError('bad_request', `${refOf(r)} holds no replicas to scale to`);
    await call(`scale ${what}`, () =>
      api.patch({ ...header, spec: { replicas } }, undefined, undefined, FIELD_MANAGER, undefined, k8s.PatchStrategy.MergePatch),
    );
    return `scaled ${what} to ${replicas} replicas`;
  }
  const body = object as unknown as k8s.KubernetesObject;
  if (q.operation === 'CREATE') {
    await call(`create ${what}`, () => api.create(body, undefined, undefined, FIELD_MANAGER));
    return `created ${what}`;
  }
  // The whole object, with no resourceVersion: the live object becomes exactly the approved one.
  await call(`replace ${what}`, () => api.replace(body, undefined, undefined, FIELD_MANAGER));
  return `replaced ${what} with the approved object`;
}
