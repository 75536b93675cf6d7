import { describe, expect, it } from 'vitest';
import { actorFrom, agentSelectorFromData, isAgent, serviceAccountOf } from './agents.js';

const selector = agentSelectorFromData({
  belay: {
    config: {
      agents: { serviceAccountNamespaces: ['agents'], serviceAccounts: ['ci:deployer'], groups: ['belay:agents'], usernames: ['copilot@example.com'] },
    },
  },
});

describe('agents', () => {
  it.each([
    [{ username: 'system:serviceaccount:agents:remediator' }, true],
    [{ username: 'system:serviceaccount:ci:deployer' }, true],
    [{ username: 'system:serviceaccount:ci:other' }, false],
    [{ username: 'copilot@example.com' }, true],
    [{ username: 'bob', groups: ['belay:agents'] }, true],
    [{ username: 'bob', groups: ['system:authenticated'] }, false],
    [{ username: 'system:serviceaccount:agents' }, false],
    [{ username: 'system:serviceaccount:agents:a:b' }, false],
    [{}, false],
  ])('%j is an agent: %s', (user, expected) => {
    expect(isAgent(selector, user)).toBe(expected);
  });

  it('reads nothing from absent or malformed data', () => {
    expect(agentSelectorFromData({})).toEqual({ serviceAccountNamespaces: [], serviceAccounts: [], groups: [], usernames: [] });
    expect(agentSelectorFromData({ belay: { config: { agents: { groups: 'belay:agents', usernames: [1, 'x'] } } } })).toMatchObject({
      groups: [],
      usernames: ['x'],
    });
  });

  it.each(['ci/deployer', 'ci:deployer', 'system:serviceaccount:ci:deployer'])('matches a service account listed as %s, as the policy does', (entry) => {
    const s = agentSelectorFromData({ belay: { config: { agents: { serviceAccounts: [entry] } } } });
    expect(isAgent(s, { username: 'system:serviceaccount:ci:deployer' })).toBe(true);
    expect(isAgent(s, { username: 'system:serviceaccount:ci:other' })).toBe(false);
    expect(isAgent(s, { username: 'system:serviceaccount:deployer:ci' })).toBe(false);
  });

  it('parses service account usernames', () => {
    expect(serviceAccountOf('system:serviceaccount:agents:remediator')).toEqual({ namespace: 'agents', name: 'remediator' });
    expect(serviceAccountOf('alice')).toBeNull();
  });

  it('builds the policy actor', () => {
    expect(actorFrom(selector, { username: 'system:serviceaccount:agents:r', uid: '1', groups: ['g'], extra: { a: ['b'] } })).toEqual({
      username: 'system:serviceaccount:agents:r',
      uid: '1',
      groups: ['g'],
      extra: { a: ['b'] },
      agent: true,
      serviceAccount: { namespace: 'agents', name: 'r' },
    });
  });
});
