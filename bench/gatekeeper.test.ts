// What Gatekeeper and belay's comparison bundle are given from policies/gatekeeper/.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatekeeperFiles, gatekeeperPolicies } from './gatekeeper.js';

const dir = path.resolve(import.meta.dirname, '../policies/gatekeeper');

describe('gatekeeperPolicies', () => {
  it('keeps the templates apart, and the Constraints and Config as the bundle carries them', () => {
    const { templates, rest } = gatekeeperPolicies(dir);
    expect(templates.map((t) => t.metadata?.name).sort()).toEqual([
      'belaydisallowedtags',
      'belayreplicalimit',
      'belayrequiredlabels',
      'belayuniqueingresshost',
    ]);
    expect(rest.map((d) => d.kind).sort()).toEqual(['BelayDisallowedTags', 'BelayReplicaLimit', 'BelayRequiredLabels', 'BelayUniqueIngressHost', 'Config']);
    const replicas = rest.find((d) => d.kind === 'BelayReplicaLimit')!;
    expect(replicas.spec?.enforcementAction).toBe('defer');
    expect((replicas.spec!.match as { namespaces: string[] }).namespaces).toEqual(['gk-*']);
  });

  it('for Gatekeeper: defer becomes deny, and every Constraint also matches the namespaces asked for', () => {
    const { rest, yaml } = gatekeeperPolicies(dir, { namespaces: ['team-a', 'gk-*'], deferAsDeny: true });
    const constraints = rest.filter((d) => d.kind !== 'Config');
    expect(constraints).toHaveLength(4);
    for (const c of constraints) {
      expect(c.spec?.enforcementAction).not.toBe('defer');
      expect((c.spec!.match as { namespaces: string[] }).namespaces).toEqual(['gk-*', 'team-a']);
    }
    expect(rest.find((d) => d.kind === 'BelayReplicaLimit')!.spec?.enforcementAction).toBe('deny');
    expect(yaml).toContain('kind: ConstraintTemplate');
    expect(yaml).toContain('- team-a');
  });

  it('finds the manager only when it and its deploy manifest were built', () => {
    expect(gatekeeperFiles('/nonexistent')).toBeNull();
  });
});
