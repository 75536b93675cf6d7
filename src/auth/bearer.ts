// Reads the bearer token of an `Authorization` header (RFC 6750). Only the
// parsing lives here; whether the token is good is an Authenticator's job.

import { BelayError } from '../errors.js';

/** Tokens longer than this are refused unread: Kubernetes tokens are a few KiB at most. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new BelayError('unauthorized', 'missing Authorization header: send "Authorization: Bearer <token>"');
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m) throw new BelayError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  const token = m[1]!;
  if (token.length > MAX_TOKEN_LENGTH) throw new BelayError('unauthorized', `the bearer token is longer than ${MAX_TOKEN_LENGTH} characters`);
  return token;
}
