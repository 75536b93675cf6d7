// The request body of every agent API call is a JSON object.

import { BelayError } from '../../src/errors.js';

export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BelayError('bad_request', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}
