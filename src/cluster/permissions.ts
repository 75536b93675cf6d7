// Who the gateway is in its cluster and what it must be allowed to do there,
// asked of the API server (SelfSubjectReview, SelfSubjectAccessReviews) at
// start. A gateway without the RBAC it
// needs reports each missing permission (and stays not ready) instead of
// serving half a product: approvals it cannot create, certificates it cannot
// rotate.

import * as k8s from '@kubernetes/client-node';

export interface Permission {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Absent: cluster-wide (every namespace). */
  readonly namespace?: string;
  readonly name?: string;
  /** What the gateway does with it, for the message. */
  readonly why: string;
}

export interface GatewayPermissionOptions {
  /** The gateway's own namespace: its Leases. */
  namespace: string;
  /** TLS mode self: the Secret it keeps, the webhook configurations and ConfigMap it writes the CA into. */
  tls?: { secret: string; webhooks: readonly { kind: 'mutating' | 'validating'; name: string }[]; configMap?: string };
}

/** Every permission a cluster-mode gateway uses (the chart's ClusterRole and Role grant them). */
export function gatewayPermissions(o: GatewayPermissionOptions): Permission[] {
  const all = (verbs: string[], p: Omit<Permission, 'verb'>) => verbs.map((verb) => ({ verb, ...p }));
  const perms: Permission[] = [
    ...all(['get', 'list', 'watch'], { group: '', resource: 'namespaces', why: 'namespace labels are policy input' }),
    ...all(['get', 'list', 'watch', 'create', 'update', 'delete'], {
      group: 'belay.dev',
      resource: 'approvalrequests',
      why: 'deferred requests become ApprovalRequests',
    }),
    ...all(['update', 'patch'], {
      group: 'belay.dev',
      resource: 'approvalrequests',
      subresource: 'status',
      why: 'approvals are marked Consumed or Expired',
    }),
    { verb: 'create', group: '', resource: 'events', why: 'decisions on approvals are reported as Events' },
    { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews', why: 'agent API and console tokens are checked' },
    ...all(['get', 'create', 'update'], { group: 'coordination.k8s.io', resource: 'leases', namespace: o.namespace, why: 'one replica leads under a Lease' }),
  ];
  if (o.tls) {
    const { secret, webhooks, configMap } = o.tls;
    perms.push(...all(['get', 'list', 'watch', 'update'], { group: '', resource: 'secrets', namespace: o.namespace, name: secret, why: 'the TLS Secret' }));
    for (const w of webhooks) {
      const resource = `${w.kind}webhookconfigurations`;
      perms.push(...all(['get', 'update'], { group: 'admissionregistration.k8s.io', resource, name: w.name, why: 'the CA is written into its caBundle' }));
    }
    if (configMap) {
      perms.push(
        ...all(['get', 'update'], { group: '', resource: 'configmaps', namespace: o.namespace, name: configMap, why: 'the CA is written into its ca.crt' }),
      );
    }
  }
  return perms;
}

/**
 * Missing permissions as a person reads them, one line per resource and
 * scope with its verbs: `get, list, watch namespaces (cluster-wide): namespace
 * labels are policy input`.
 */
export function describeMissing(missing: readonly Permission[]): string[] {
  const groups = new Map<string, { verbs: string[]; p: Permission }>();
  for (const p of missing) {
    const key = `${p.group}/${p.resource}/${p.subresource ?? ''}/${p.namespace ?? ''}/${p.name ?? ''}`;
    const g = groups.get(key);
    if (g) g.verbs.push(p.verb);
    else groups.set(key, { verbs: [p.verb], p });
  }
  return [...groups.values()].map(({ verbs, p }) => `${verbs.join(', ')} ${resourceOf(p)}${p.name ? ` ${p.name}` : ''}${scopeOf(p)}: ${p.why}`);
}

/** The kubectl command that checks `p` for `user`. */
export function canIHint(p: Permission, user: string): string {
  return `kubectl auth can-i ${p.verb} ${resourceOf(p)}${p.name ? `/${p.name}` : ''} ${p.namespace ? `-n ${p.namespace}` : '-A'} --as ${user}`;
}

function resourceOf(p: Permission): string {
  return `${p.resource}${p.group ? `.${p.group}` : ''}${p.subresource ? `/${p.subresource}` : ''}`;
}

function scopeOf(p: Permission): string {
  return p.namespace ? ` in namespace ${p.namespace}` : ' (cluster-wide)';
}

export type AccessReviewer = (p: Permission) => Promise<boolean>;

/** Who this client is to the API server (SelfSubjectReview); undefined when it will not say. */
export async function whoAmI(kc: k8s.KubeConfig): Promise<string | undefined> {
  try {
    const r = await kc
      .makeApiClient(k8s.AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    return r.status?.userInfo?.username;
  } catch {
    return undefined;
  }
}

/** Asks the API server whether this client may do `p` (SelfSubjectAccessReview; any authenticated user may ask). */
export function selfAccessReviewer(kc: k8s.KubeConfig): AccessReviewer {
  const api = kc.makeApiClient(k8s.AuthorizationV1Api);
  return async function review(p) {
    const r = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: p.verb,
            group: p.group,
            resource: p.resource,
            ...(p.subresource ? { subresource: p.subresource } : {}),
            ...(p.namespace ? { namespace: p.namespace } : {}),
            ...(p.name ? { name: p.name } : {}),
          },
        },
      },
    });
    return r.status?.allowed === true;
  };
}

/** The permissions of `perms` the reviewer refuses; a review that fails counts as missing, with its error. */
export async function missingPermissions(review: AccessReviewer, perms: readonly Permission[]): Promise<{ permission: Permission; error?: string }[]> {
  const results = await Promise.all(
    perms.map(async (permission) => {
      try {
        return (await review(permission)) ? undefined : { permission };
      } catch (err) {
        return { permission, error: (err as Error).message };
      }
    }),
  );
  return results.filter((r): r is { permission: Permission; error?: string } => r !== undefined);
}
