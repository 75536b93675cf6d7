import { describe, expect, it } from 'vitest';
import { canIHint, describeMissing, gatewayPermissions, missingPermissions, type Permission } from './permissions.js';

describe("the gateway's permissions", () => {
  const tls = { secret: 'belay-tls', webhooks: [{ kind: 'mutating', name: 'belay' }] as const, configMap: 'belay-authorization' };

  it('covers approvals, namespaces, events, tokens and its Lease; TLS mode self adds its Secret, webhooks and ConfigMap', () => {
    const base = gatewayPermissions({ namespace: 'belay' });
    const keys = (ps: Permission[]) =>
      ps.map((p) => `${p.verb} ${p.group}/${p.resource}${p.subresource ? `/${p.subresource}` : ''} ${p.namespace ?? '*'} ${p.name ?? ''}`.trim());
    expect(keys(base)).toEqual(
      expect.arrayContaining([
        'watch /namespaces *',
        'create belay.dev/approvalrequests *',
        'update belay.dev/approvalrequests/status *',
        'create /events *',
        'create authentication.k8s.io/tokenreviews *',
        'update coordination.k8s.io/leases belay',
      ]),
    );
    expect(base.some((p) => p.resource === 'secrets')).toBe(false);
    const self = keys(gatewayPermissions({ namespace: 'belay', tls: { ...tls, webhooks: [...tls.webhooks] } }));
    expect(self).toEqual(
      expect.arrayContaining([
        'watch /secrets belay belay-tls',
        'update /secrets belay belay-tls',
        'update admissionregistration.k8s.io/mutatingwebhookconfigurations * belay',
        'update /configmaps belay belay-authorization',
      ]),
    );
  });

  it('names each missing permission with what it is for, grouped by resource, and how to check one', async () => {
    const perms = gatewayPermissions({ namespace: 'belay' });
    const missing = await missingPermissions(async (p) => !(p.resource === 'tokenreviews' || p.resource === 'leases'), perms);
    expect(describeMissing(missing.map((m) => m.permission))).toEqual([
      'create tokenreviews.authentication.k8s.io (cluster-wide): agent API and console tokens are checked',
      'get, create, update leases.coordination.k8s.io in namespace belay: one replica leads under a Lease',
    ]);
    expect(canIHint(missing[1]!.permission, 'system:serviceaccount:belay:belay')).toBe(
      'kubectl auth can-i get leases.coordination.k8s.io -n belay --as system:serviceaccount:belay:belay',
    );
    const secret = gatewayPermissions({ namespace: 'belay', tls: { secret: 'belay-tls', webhooks: [] } }).find((p) => p.resource === 'secrets')!;
    expect(canIHint(secret, 'me')).toBe('kubectl auth can-i get secrets/belay-tls -n belay --as me');
  });

  it('counts a review that fails as missing, with its error', async () => {
    const [first] = gatewayPermissions({ namespace: 'belay' });
    const missing = await missingPermissions(async () => {
      throw new Error('connection refused');
    }, [first!]);
    expect(missing).toEqual([{ permission: first, error: 'connection refused' }]);
  });
});
