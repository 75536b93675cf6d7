// Local mode: tokens configured on the command line or in a file, each bound
// to one identity. Tokens are compared by their SHA-256 digest, so the lookup
// time does not depend on how much of a guess matches a real token.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BelayError } from '../errors.js';
import type { AuthenticatedUser, Authenticator } from './authenticator.js';

export interface StaticToken {
  token: string;
  username: string;
  groups?: string[];
  uid?: string;
}

/** Shortest token accepted in configuration: anything shorter is guessable. */
export const MIN_STATIC_TOKEN_LENGTH = 16;

const digest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export function staticTokens(entries: readonly StaticToken[]): Authenticator {
  const users = new Map<string, AuthenticatedUser>();
  for (const [i, e] of entries.entries()) {
    if (typeof e.token !== 'string' || e.token.length < MIN_STATIC_TOKEN_LENGTH) {
      throw new BelayError('bad_request', `static token ${i + 1} is shorter than ${MIN_STATIC_TOKEN_LENGTH} characters`);
    }
    if (typeof e.username !== 'string' || e.username === '') {
      throw new BelayError('bad_request', `static token ${i + 1} has no username`);
    }
    const key = digest(e.token);
    if (users.has(key)) throw new BelayError('bad_request', `static token ${i + 1} is configured twice`);
    users.set(key, { username: e.username, groups: [...(e.groups ?? [])], extra: {}, ...(e.uid ? { uid: e.uid } : {}) });
  }
  return {
    kind: 'static',
    async authenticate(token) {
      const user = users.get(digest(token));
      if (!user) throw new BelayError('unauthorized', 'the bearer token is not valid');
      return { ...user, groups: [...user.groups], extra: {} };
    },
  };
}

/**
 * Reads a token file: YAML or JSON, a list of {token, username, groups, uid}.
 * Kept apart from the command line so tokens stay out of `ps` output.
 */
export function readStaticTokenFile(file: string): StaticToken[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BelayError('bad_request', `cannot read token file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const list = Array.isArray(raw) ? raw : (raw as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new BelayError('bad_request', `token file ${file} must be a list of {token, username, groups}`);
  return list.map((e, i): StaticToken => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const groups = o.groups === undefined ? [] : o.groups;
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      throw new BelayError('bad_request', `token file ${file}: entry ${i + 1} groups must be a list of strings`);
    }
    return {
      token: String(o.token ?? ''),
      username: String(o.username ?? ''),
      groups,
      ...(typeof o.uid === 'string' ? { uid: o.uid } : {}),
    };
  });
}
