// Provisional uses: when the gateway cannot tell the API server from anyone
// else who reaches its port (no --webhook-client-ca), an AdmissionReview that
// uses an approval could be forged — and a forged review must not use up a
// human's approval. So such a use only reserves the approval: the admission
// is answered, the record stays Approved with an `InUse` condition saying
// which review holds it, and it becomes Consumed once the API server's own
// view shows the request happened (the object created, changed or deleted
// after the review). A reservation the API server never shows is void after
// IN_FLIGHT_MS, and the approval is usable again; while it is fresh, other
// requests are refused, so two real requests are never both admitted.
//
// What cannot be shown — a CONNECT (exec leaves no trace on the object), a
// create without a name, an object the gateway may not read — counts as used
// at once, as a verified use does: the trade-off is in README ("Only the API
// server speaks to the webhooks").

import http from 'node:http';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import type { JsonObject } from '../contract/index.js';
import type { DeferredRequest } from './gate.js';
import { type ApprovalRequest, type Condition, type RequestedAction, withCondition } from './resource.js';

export const IN_USE = 'InUse';

/** A use an unverified review made, held on the approval until the API server shows it. */
export interface Reservation {
  readonly requestUid: string;
  readonly objectDigest: string;
  /** RFC 3339: when the review used it. */
  readonly at: string;
  /** When a validating review of the same request confirmed it (as for a use). */
  readonly confirmedAt?: string;
  readonly operation: string;
  /** The object as the review said it was before the request (UPDATE, DELETE). */
  readonly before?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** Whether the API server shows a reserved use happened. */
export type Shown = 'shown' | 'not-shown' | 'unknown';

/** The API server's own view of an object, asked about a reserved use. */
export interface UseEvidence {
  shows(request: RequestedAction, reservation: Reservation): Promise<Shown>;
}

/** Operations whose effect on the object the API server's view can show. */
const SHOWN_BY_THE_OBJECT = new Set(['CREATE', 'UPDATE', 'DELETE']);

/** Whether a use by this request can be held provisionally (an unverified review of a change the object will show). */
export function canReserve(request: DeferredRequest): boolean {
  const { input } = request;
  return request.caller === 'unverified' && input.face === 'admission' && SHOWN_BY_THE_OBJECT.has(input.action.operation) && input.resource.name !== '';
}

/** The reservation on an Approved record, if there is one. */
export function reservationOf(r: ApprovalRequest): Reservation | undefined {
  const c = r.status?.conditions?.find((x) => x.type === IN_USE && x.status === 'True');
  if (!c?.message) return undefined;
  try {
    const parsed = JSON.parse(c.message) as Reservation;
    return typeof parsed.requestUid === 'string' && typeof parsed.at === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The condition that holds a reservation. */
export function inUse(reservation: Reservation): Condition {
  return { type: IN_USE, status: 'True', reason: 'Unconfirmed', message: JSON.stringify(reservation), lastTransitionTime: reservation.at };
}

/** The reservation's condition cleared (settled or void), with why. */
export function released(conditions: readonly Condition[] | undefined, reason: string, message: string, at: string): Condition[] {
  return withCondition(conditions, { type: IN_USE, status: 'False', reason, message, lastTransitionTime: at });
}

/** What the review said the object was before the request: its uid and resourceVersion. */
export function beforeOf(request: DeferredRequest): Reservation['before'] {
  const meta = (request.input.oldObject?.metadata ?? {}) as JsonObject;
  const uid = typeof meta.uid === 'string' ? meta.uid : undefined;
  const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
  return uid || resourceVersion ? { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) } : undefined;
}

/** The object's metadata as the API server has it, or null when it does not exist. */
export type ReadMetadata = (request: RequestedAction) => Promise<{ uid?: string; resourceVersion?: string; deletionTimestamp?: string } | null>;

/**
 * Whether the object shows the reserved use: a DELETE's object gone (or
 * being deleted, or replaced), an UPDATE's written since the review's old
 * object, a CREATE's there. Whatever cannot be read is unknown.
 */
export function evidenceFrom(read: ReadMetadata): UseEvidence {
  return {
    async shows(request, reservation) {
      let meta: Awaited<ReturnType<ReadMetadata>>;
      try {
        meta = await read(request);
      } catch {
        return 'unknown';
      }
      const before = reservation.before ?? {};
      switch (reservation.operation) {
        case 'CREATE':
          return meta ? 'shown' : 'not-shown';
        case 'DELETE':
          if (!meta || meta.deletionTimestamp || (before.uid && meta.uid !== before.uid)) return 'shown';
          return 'not-shown';
        case 'UPDATE':
          if (!meta || (before.uid && meta.uid !== before.uid) || !before.resourceVersion) return 'unknown';
          return meta.resourceVersion !== before.resourceVersion ? 'shown' : 'not-shown';
        default:
          return 'unknown';
      }
    },
  };
}

/** The API server's view through the gateway's own kubeconfig: a metadata-only GET of the object. */
export function kubeUseEvidence(kc: k8s.KubeConfig): UseEvidence {
  const server = kc.getCurrentCluster()?.server;
  return evidenceFrom(async (r) => {
    if (!server || !r.version || !r.resource || !r.name) throw new Error('not addressable');
    const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const where = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
    const url = new URL(`${base}${where}/${encodeURIComponent(r.resource)}/${encodeURIComponent(r.name)}`, server);
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' },
      timeout: 3_000,
    };
    await kc.applyToHTTPSOptions(options);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // https in a cluster; the fake API server of the unit tests speaks plain http.
      const req = (url.protocol === 'http:' ? http.request : https.request)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    if (status === 404) return null;
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const meta = ((JSON.parse(body) as { metadata?: Record<string, unknown> }).metadata ?? {}) as Record<string, string | undefined>;
    return {
      ...(meta.uid ? { uid: meta.uid } : {}),
      ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      ...(meta.deletionTimestamp ? { deletionTimestamp: meta.deletionTimestamp } : {}),
    };
  });
}
