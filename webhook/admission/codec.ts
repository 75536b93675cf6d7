// admission.k8s.io/v1 AdmissionReview on the wire: decoding with precise
// errors, and the envelope of the answer.

import { BelayError } from '../../src/errors.js';
import type { AdmissionRequest } from '../../src/input/admission.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewOut {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** A decoding failure that still knows the uid, so it can be answered in-protocol. */
export class ReviewError extends BelayError {
  readonly uid: string | undefined;
  constructor(message: string, uid?: string) {
    super('bad_request', message);
    this.uid = uid;
  }
}

/** Checks the envelope and the fields belay relies on; everything else passes through untouched. */
export function decodeReview(body: unknown): AdmissionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ReviewError('body must be an AdmissionReview object');
  }
  const review = body as Record<string, unknown>;
  const request = review.request as Record<string, unknown> | undefined;
  const uid = typeof request?.uid === 'string' && request.uid !== '' ? request.uid : undefined;
  const fail = (message: string): never => {
    throw new ReviewError(message, uid);
  };
  if (review.kind !== 'AdmissionReview') fail(`kind must be AdmissionReview, got ${JSON.stringify(review.kind ?? null)}`);
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    fail(
      `apiVersion must be ${ADMISSION_API_VERSION}, got ${JSON.stringify(review.apiVersion ?? null)} (register the webhook with admissionReviewVersions: [v1])`,
    );
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) fail('request is missing');
  const r = request as Record<string, unknown>;
  if (uid === undefined) fail('request.uid is missing');
  if (typeof r.operation !== 'string' || !OPERATIONS.has(r.operation)) {
    fail(`request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${JSON.stringify(r.operation ?? null)}`);
  }
  checkGvk(r.kind, 'request.kind', ['group', 'version', 'kind'], fail);
  checkGvk(r.resource, 'request.resource', ['group', 'version', 'resource'], fail);
  const user = r.userInfo as Record<string, unknown> | undefined;
  if (typeof user !== 'object' || user === null) fail('request.userInfo is missing');
  if (typeof user!.username !== 'string') fail('request.userInfo.username must be a string');
  if (user!.groups !== undefined && !(Array.isArray(user!.groups) && user!.groups.every((g) => typeof g === 'string'))) {
    fail('request.userInfo.groups must be a list of strings');
  }
  for (const field of ['object', 'oldObject', 'options'] as const) {
    const v = r[field];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) fail(`request.${field} must be an object or null`);
  }
  for (const field of ['name', 'namespace', 'subResource'] as const) {
    if (r[field] !== undefined && typeof r[field] !== 'string') fail(`request.${field} must be a string`);
  }
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') fail('request.dryRun must be a boolean');
  return r as unknown as AdmissionRequest;
}

function checkGvk(value: unknown, name: string, fields: string[], fail: (m: string) => never): void {
  if (typeof value !== 'object' || value === null) fail(`${name} is missing`);
  const o = value as Record<string, unknown>;
  for (const f of fields) {
    if (typeof o[f] !== 'string') fail(`${name}.${f} must be a string`);
  }
  if (o[fields[2]!] === '') fail(`${name}.${fields[2]} must not be empty`);
}

export function envelope(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
