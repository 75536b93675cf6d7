import { describe, expect, it } from 'vitest';
import { describePermission, gatewayPermissions, missingPermissions, type Permission } from './permissions.js';

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

  it('names each missing permission with what it is for and how to check it', async () => {
    const perms = gatewayPermissions({ namespace: 'belay' });
    const missing = await missingPermissions(async (p) => !(p.resource === 'tokenreviews' || (p.resource === 'leases' && p.verb === 'update')), perms);
    expect(missing.map((m) => describePermission(m.permission))).toEqual([
      'create tokenreviews.authentication.k8s.io (cluster-wide): agent API and console tokens are checked (kubectl auth can-i create tokenreviews.authentication.k8s.io -A --as <gateway>)',
      'update leases.coordination.k8s.io in namespace belay: one replica leads under a Lease (kubectl auth can-i update leases.coordination.k8s.io -n belay --as <gateway>)',
    ]);
  });

  it('counts a review that fails as missing, with its error', async () => {
    const [first] = gatewayPermissions({ namespace: 'belay' });
    const missing = await missingPermissions(async () => {
      throw new Error('connection refused');
    }, [first!]);
    expect(missing).toEqual([{ permission: first, error: 'connection refused' }]);
  });
});
