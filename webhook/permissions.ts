// The gateway's RBAC, checked against the API server at start (and again
// until it is complete): each permission the gateway uses that it lacks is
// logged by name and keeps /readyz not ready, so a gateway installed without
// its Role serves nothing rather than half a product.

import type * as k8s from '@kubernetes/client-node';
import { type AccessReviewer, canIHint, describeMissing, missingPermissions, type Permission, selfAccessReviewer } from '../src/cluster/permissions.js';
import type { Logger } from '../src/observe/log.js';

export interface PermissionWatch {
  /** Why the gateway is not ready for lack of RBAC; undefined when it has all it needs. */
  problem(): string | undefined;
  close(): void;
}

export async function checkPermissions(
  kc: k8s.KubeConfig,
  perms: readonly Permission[],
  log: Logger,
  options: { recheckMs?: number; review?: AccessReviewer; identity?: string } = {},
): Promise<PermissionWatch> {
  const review = options.review ?? selfAccessReviewer(kc);
  let problem: string | undefined = 'RBAC not checked yet';
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const check = async (): Promise<void> => {
    const missing = await missingPermissions(review, perms);
    if (missing.length === 0) {
      if (problem && problem !== 'RBAC not checked yet') log.info('RBAC complete: every permission the gateway uses is granted');
      problem = undefined;
      return;
    }
    const lines = describeMissing(missing.map((m) => m.permission));
    const failed = missing.find((m) => m.error)?.error;
    problem =
      `missing RBAC: ${lines.join('; ')}` +
      (failed ? ` (a review failed: ${failed})` : '') +
      ` — check with ${canIHint(missing[0]!.permission, options.identity ?? '<the gateway>')}`;
    log.error({ missing: lines }, 'the gateway lacks permissions it needs; not ready until they are granted');
    if (!closed) {
      timer = setTimeout(() => void check(), options.recheckMs ?? 30_000);
      timer.unref();
    }
  };
  await check();
  return {
    problem: () => problem,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
