// Pure constructors for admission responses: no I/O, one private builder.

import type { PatchOperation } from '../../src/contract/index.js';
import type { AdmissionResponse } from './codec.js';

type Extras = { warnings?: string[]; auditAnnotations?: Record<string, string> };

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 500: 'InternalError', 503: 'ServiceUnavailable' };

/** Warnings longer than this are cut: the API server and kubectl show them on one line each. */
const MAX_WARNING = 512;

function build(uid: string, allowed: boolean, extras: Extras, more: Partial<AdmissionResponse> = {}): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed, ...more };
  const warnings = (extras.warnings ?? []).map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w));
  if (warnings.length > 0) response.warnings = warnings;
  if (extras.auditAnnotations && Object.keys(extras.auditAnnotations).length > 0) response.auditAnnotations = extras.auditAnnotations;
  return response;
}

export function allowed(uid: string, extras: Extras = {}): AdmissionResponse {
  return build(uid, true, extras);
}

export function denied(uid: string, code: number, message: string, extras: Extras = {}): AdmissionResponse {
  return build(uid, false, extras, { status: { code, reason: REASONS[code] ?? 'Forbidden', message } });
}

/** Allowed with a JSON patch; an empty patch is a plain allow (reinvocation-safe). */
export function patched(uid: string, patch: readonly PatchOperation[], extras: Extras = {}): AdmissionResponse {
  if (patch.length === 0) return allowed(uid, extras);
  return build(uid, true, extras, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}
