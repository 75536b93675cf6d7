import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { BelayError } from '../errors.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { bearerToken, callerActor, claimsFrom, ON_BEHALF_OF, readStaticTokenFile, staticTokens, tokenReviewAuthenticator } from './index.js';

const code = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (err) {
    return err instanceof BelayError ? err.code : `not a BelayError: ${String(err)}`;
  }
};

describe('bearerToken', () => {
  it('reads the token of a Bearer header, case-insensitively', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   xyz ')).toBe('xyz');
  });
  it('refuses missing, other schemes, empty and oversized tokens with 401', async () => {
    for (const h of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(20_000)}`]) {
      expect(await code(() => bearerToken(h))).toBe('unauthorized');
    }
  });
});

describe('staticTokens', () => {
  const auth = staticTokens([
    { token: 'agent-token-0123456789', username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts'] },
    { token: 'human-token-0123456789', username: 'alice', groups: ['belay:approvers'] },
  ]);
  it('maps each token to its identity', async () => {
    expect(await auth.authenticate('agent-token-0123456789')).toEqual({
      username: 'system:serviceaccount:agents:remediator',
      groups: ['system:serviceaccounts'],
      extra: {},
    });
    expect((await auth.authenticate('human-token-0123456789')).username).toBe('alice');
  });
  it('refuses unknown tokens and prefixes of known ones', async () => {
    expect(await code(auth.authenticate('agent-token-012345678'))).toBe('unauthorized');
    expect(await code(auth.authenticate('nope'))).toBe('unauthorized');
  });
  it('refuses short or duplicate tokens in configuration', async () => {
    expect(await code(() => staticTokens([{ token: 'short', username: 'a' }]))).toBe('bad_request');
    expect(
      await code(() =>
        staticTokens([
          { token: 'x'.repeat(20), username: 'a' },
          { token: 'x'.repeat(20), username: 'b' },
        ]),
      ),
    ).toBe('bad_request');
  });
  it('reads a YAML token file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-tokens-')), 'tokens.yaml');
    writeFileSync(file, 'tokens:\n  - token: agent-token-0123456789\n    username: robot\n    groups: [belay:agents]\n');
    expect(readStaticTokenFile(file)).toEqual([{ token: 'agent-token-0123456789', username: 'robot', groups: ['belay:agents'] }]);
    writeFileSync(file, '- token: x\n  groups: notalist\n');
    expect(() => readStaticTokenFile(file)).toThrow(/groups must be a list/);
  });
});

describe('tokenReviewAuthenticator', () => {
  function fake(answer: (token: string) => k8s.V1TokenReview['status'] | Error) {
    const calls: k8s.V1TokenReview[] = [];
    const review = async (r: k8s.V1TokenReview): Promise<k8s.V1TokenReview> => {
      calls.push(r);
      const a = answer(r.spec.token!);
      if (a instanceof Error) throw a;
      return { ...r, status: a };
    };
    return { review, calls };
  }

  it('returns the user the API server names, with audiences passed through', async () => {
    const { review, calls } = fake(() => ({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:agents:bot',
        uid: 'u1',
        groups: ['system:serviceaccounts'],
        extra: { 'authentication.kubernetes.io/pod-name': ['p'] },
      },
    }));
    const auth = tokenReviewAuthenticator(review, { audiences: ['belay'] });
    expect(await auth.authenticate('t')).toEqual({
      username: 'system:serviceaccount:agents:bot',
      uid: 'u1',
      groups: ['system:serviceaccounts'],
      extra: { 'authentication.kubernetes.io/pod-name': ['p'] },
    });
    expect(calls[0]!.spec.audiences).toEqual(['belay']);
  });

  it('caches answers by token for their TTL and asks again after it', async () => {
    let now = 1_000;
    const { review, calls } = fake((t) =>
      t === 'good' ? { authenticated: true, user: { username: 'bot' } } : { authenticated: false, error: 'token expired' },
    );
    const auth = tokenReviewAuthenticator(review, { authenticatedTtlMs: 100, unauthenticatedTtlMs: 10, now: () => now });
    await auth.authenticate('good');
    await auth.authenticate('good');
    expect(calls).toHaveLength(1);
    now += 101;
    await auth.authenticate('good');
    expect(calls).toHaveLength(2);
    await expect(auth.authenticate('bad')).rejects.toThrow(/not valid: token expired/);
    await expect(auth.authenticate('bad')).rejects.toThrow(BelayError);
    expect(calls).toHaveLength(3);
  });

  it('shares one review between concurrent calls with the same token', async () => {
    const { review, calls } = fake(() => ({ authenticated: true, user: { username: 'bot' } }));
    const auth = tokenReviewAuthenticator(review);
    await Promise.all([auth.authenticate('x'), auth.authenticate('x'), auth.authenticate('x')]);
    expect(calls).toHaveLength(1);
  });

  it('does not cache an unreachable API server, and reports it as an internal error, not a bad token', async () => {
    let fail = true;
    const { review, calls } = fake(() => (fail ? new Error('connect ECONNREFUSED') : { authenticated: true, user: { username: 'bot' } }));
    const auth = tokenReviewAuthenticator(review);
    expect(await code(auth.authenticate('x'))).toBe('internal');
    fail = false;
    expect((await auth.authenticate('x')).username).toBe('bot');
    expect(calls).toHaveLength(2);
  });
});

describe('callerActor', () => {
  const agents = agentSelectorFromData({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'], groups: ['belay:agents'] } } } });
  const bot = { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts'], extra: {} };

  it('is the token identity, marked as an agent by the selector', () => {
    const actor = callerActor(bot, {}, agents);
    expect(actor).toMatchObject({ username: bot.username, agent: true, serviceAccount: { namespace: 'agents', name: 'bot' } });
    expect(callerActor({ username: 'alice', groups: [], extra: {} }, {}, agents).agent).toBe(false);
  });

  it('refuses a body that names another agent with 403', async () => {
    expect(await code(() => callerActor(bot, { agent: 'system:serviceaccount:agents:other' }, agents))).toBe('forbidden');
    expect(callerActor(bot, { agent: bot.username }, agents).username).toBe(bot.username);
  });

  it('records the human the agent acts for, replacing any inherited value', () => {
    const actor = callerActor({ ...bot, extra: { [ON_BEHALF_OF]: ['mallory'] } }, claimsFrom({ onBehalfOf: { username: 'alice' } }), agents);
    expect(actor.extra[ON_BEHALF_OF]).toEqual(['alice']);
    expect(callerActor({ ...bot, extra: { [ON_BEHALF_OF]: ['mallory'] } }, {}, agents).extra[ON_BEHALF_OF]).toBeUndefined();
  });

  it('rejects malformed claims with 400', async () => {
    expect(await code(() => claimsFrom({ agent: 42 }))).toBe('bad_request');
    expect(await code(() => claimsFrom({ onBehalfOf: { name: 'alice' } }))).toBe('bad_request');
    expect(claimsFrom({ onBehalfOf: 'alice' })).toEqual({ onBehalfOf: 'alice' });
  });
});
