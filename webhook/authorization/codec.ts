// authorization.k8s.io/v1 SubjectAccessReview on the wire: decoding with
// precise errors, and the envelope of the answer.

import type { AuthorizationStatus } from '../../src/decide/authorization.js';
import { BelayError } from '../../src/errors.js';
import type { SubjectAccessReviewSpec } from '../../src/input/authorization.js';

export const AUTHORIZATION_API_VERSION = 'authorization.k8s.io/v1';

export interface SubjectAccessReviewOut {
  apiVersion: typeof AUTHORIZATION_API_VERSION;
  kind: 'SubjectAccessReview';
  status: AuthorizationStatus;
}

/** Longest reason sent back: the API server puts it in an error message kubectl prints whole. */
const MAX_REASON = 1024;

export function decodeSubjectAccessReview(body: unknown): SubjectAccessReviewSpec {
  const fail = (message: string): never => {
    throw new BelayError('bad_request', `invalid SubjectAccessReview: ${message}`);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('the body must be an object');
  const review = body as Record<string, unknown>;
  if (review.kind !== 'SubjectAccessReview') fail(`kind must be SubjectAccessReview, got ${JSON.stringify(review.kind ?? null)}`);
  if (review.apiVersion !== AUTHORIZATION_API_VERSION) {
    fail(`apiVersion must be ${AUTHORIZATION_API_VERSION}, got ${JSON.stringify(review.apiVersion ?? null)} (set subjectAccessReviewVersion: v1)`);
  }
  const spec = review.spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return fail('spec is missing');
  const s = spec as Record<string, unknown>;
  for (const field of ['user', 'uid'] as const) {
    if (s[field] !== undefined && typeof s[field] !== 'string') fail(`spec.${field} must be a string`);
  }
  if (s.groups !== undefined && !(Array.isArray(s.groups) && s.groups.every((g) => typeof g === 'string'))) fail('spec.groups must be a list of strings');
  if (s.extra !== undefined) {
    if (typeof s.extra !== 'object' || s.extra === null || Array.isArray(s.extra)) fail('spec.extra must be an object');
    for (const [k, v] of Object.entries(s.extra as object)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`spec.extra[${JSON.stringify(k)}] must be a list of strings`);
    }
  }
  const ra = s.resourceAttributes;
  const nra = s.nonResourceAttributes;
  if (ra !== undefined && nra !== undefined) fail('spec has both resourceAttributes and nonResourceAttributes');
  if (ra === undefined && nra === undefined) fail('spec needs resourceAttributes or nonResourceAttributes');
  if (ra !== undefined) {
    if (typeof ra !== 'object' || ra === null || Array.isArray(ra)) fail('spec.resourceAttributes must be an object');
    for (const f of ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const) {
      const v = (ra as Record<string, unknown>)[f];
      if (v !== undefined && typeof v !== 'string') fail(`spec.resourceAttributes.${f} must be a string`);
    }
  }
  if (nra !== undefined && (typeof nra !== 'object' || nra === null || Array.isArray(nra))) fail('spec.nonResourceAttributes must be an object');
  return s as SubjectAccessReviewSpec;
}

export function encodeSubjectAccessReview(status: AuthorizationStatus): SubjectAccessReviewOut {
  const out: AuthorizationStatus = { allowed: status.allowed };
  if (status.denied) out.denied = true;
  if (status.reason) out.reason = clip(status.reason);
  if (status.evaluationError) out.evaluationError = clip(status.evaluationError);
  return { apiVersion: AUTHORIZATION_API_VERSION, kind: 'SubjectAccessReview', status: out };
}

function clip(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s;
}
