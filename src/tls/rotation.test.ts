import { describe, expect, it } from 'vitest';
import { inspectCertificate, keyMatches, signedBy, splitPem } from './pki.js';
import { CA_CREATED_ANNOTATION, planRotation, type RotationPolicy, type RotationState, renewalTime } from './rotation.js';

const policy: RotationPolicy = { caValidityMs: 600_000, certValidityMs: 120_000, hosts: ['belay.belay.svc', '127.0.0.1'], propagationMs: 10_000 };
const t0 = new Date('2026-12-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const empty: RotationState = { data: {}, annotations: {} };

function facts(state: RotationState) {
  const cas = splitPem(state.data['ca.crt'] ?? '').map((p) => inspectCertificate(p));
  const leaf = inspectCertificate(state.data['tls.crt']!);
  return { cas, leaf, issuer: cas.findIndex((ca) => signedBy(leaf, ca)) };
}

function apply(state: RotationState, now: Date, published: boolean): { state: RotationState; changes: string[]; recheckAt: Date } {
  const plan = planRotation(state, policy, now, published);
  return { state: plan.next ?? state, changes: plan.changes.map((c) => `${c.what}: ${c.why}`), recheckAt: plan.recheckAt };
}

describe('certificate rotation', () => {
  it('makes a CA and a serving certificate for the names when the Secret is empty', () => {
    const { state, changes } = apply(empty, t0, false);
    expect(changes).toEqual(['ca: no CA yet', 'certificate: no usable serving certificate']);
    const { cas, leaf, issuer } = facts(state);
    expect(cas).toHaveLength(1);
    expect(cas[0]!.isCA).toBe(true);
    expect(keyMatches(cas[0]!, state.data['ca.key']!)).toBe(true);
    expect(issuer).toBe(0);
    expect(leaf.hosts.sort()).toEqual(['127.0.0.1', 'belay.belay.svc']);
    expect(keyMatches(leaf, state.data['tls.key']!)).toBe(true);
    expect(state.annotations[CA_CREATED_ANNOTATION]).toBe(t0.toISOString());
  });

  it('changes nothing until a renewal falls due, and says when to look again', () => {
    const first = apply(empty, t0, false).state;
    const { leaf } = facts(first);
    const quiet = planRotation(first, policy, at(30_000), true);
    expect(quiet.next).toBeUndefined();
    expect(quiet.recheckAt).toEqual(renewalTime(leaf));
  });

  it('renews the serving certificate with a third of its life left, from the same CA', () => {
    const first = apply(empty, t0, true).state;
    const due = renewalTime(facts(first).leaf);
    const { state, changes } = apply(first, new Date(due.getTime() + 1_000), true);
    expect(changes).toEqual(['certificate: the serving certificate is due for renewal']);
    expect(state.data['ca.crt']).toBe(first.data['ca.crt']);
    expect(facts(state).leaf.serial).not.toBe(facts(first).leaf.serial);
    expect(facts(state).issuer).toBe(0);
  });

  it('issues a new certificate when the names change, and starts afresh from an unreadable Secret', () => {
    const first = apply(empty, t0, true).state;
    const renamed = planRotation(first, { ...policy, hosts: ['belay.other.svc'] }, at(1_000), true);
    expect(renamed.changes.map((c) => c.why)).toEqual(['the serving names changed (belay.other.svc)']);
    const garbage = apply({ data: { 'ca.crt': 'nope', 'ca.key': 'nope', 'tls.crt': 'x', 'tls.key': 'y' }, annotations: {} }, t0, true);
    expect(garbage.changes).toEqual(['ca: no CA yet', 'certificate: no usable serving certificate']);
  });

  it('renews the CA by adding one, and serves from it only once the bundle with both is published and has had time to spread', () => {
    let state = apply(empty, t0, true).state;
    const oldCa = facts(state).cas[0]!;
    // Keep the serving certificate fresh until the CA is due.
    let now = t0;
    while (now < renewalTime(oldCa)) {
      now = new Date(now.getTime() + 30_000);
      if (now >= renewalTime(oldCa)) break;
      state = apply(state, now, true).state;
    }
    const renewed = apply(state, now, true);
    expect(renewed.changes).toContain('ca: the CA is due for renewal');
    state = renewed.state;
    let f = facts(state);
    expect(f.cas).toHaveLength(2);
    expect(f.cas[1]!.serial).toBe(oldCa.serial);
    expect(f.issuer).toBe(1); // still served from the old CA: nobody trusts the new one yet
    expect(state.annotations[CA_CREATED_ANNOTATION]).toBe(now.toISOString());

    // Not in the webhooks yet: no move, whatever the time.
    expect(apply(state, new Date(now.getTime() + 20_000), false).changes).toEqual([]);
    // Published, but not long enough ago.
    const early = planRotation(state, policy, new Date(now.getTime() + 5_000), true);
    expect(early.next).toBeUndefined();
    expect(early.recheckAt).toEqual(new Date(now.getTime() + policy.propagationMs));
    // Published and spread: the serving certificate moves to the new CA; both stay trusted.
    const moved = apply(state, new Date(now.getTime() + 11_000), true);
    expect(moved.changes).toEqual(['certificate: moving to the new CA']);
    f = facts(moved.state);
    expect(f.cas).toHaveLength(2);
    expect(f.issuer).toBe(0);

    // When the old CA expires it leaves the bundle.
    const later = apply(moved.state, new Date(oldCa.notAfter.getTime() + 1_000), true);
    expect(later.changes[0]).toBe('ca: an expired CA left the bundle');
    expect(facts(later.state).cas.map((c) => c.serial)).toEqual([f.cas[0]!.serial]);
  });

  it('issues from the new CA at once when the served certificate is no longer usable', () => {
    const state = apply(empty, t0, true).state;
    const expired = facts(state).leaf.notAfter;
    const { changes } = apply(state, new Date(expired.getTime() + 1_000), false);
    expect(changes).toEqual(['certificate: the serving certificate expired']);
  });
});
