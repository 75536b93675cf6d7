// Test support: deferred requests as the admission face hands them to the gate.

import type { DeferredRequest } from '../approvals/gate.js';
import type { Decision, JsonObject, PolicyInput } from '../contract/index.js';
import type { AgentSelector } from '../identity/agents.js';

export const AGENT = 'system:serviceaccount:agents:remediator';

export function deployment(replicas = 3, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' }, ...extra },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  };
}

export function deferDecision(over: Partial<Decision> = {}): Decision {
  return {
    decision: 'defer',
    reasons: [{ rule: 'prod.scale', message: 'scaling in production needs a human', severity: 'high' }],
    fixes: [],
    redact: [],
    warnings: [],
    approval: { groups: ['belay:approvers'], ttl: '15m', risk: 'high' },
    mode: 'approve',
    wouldBe: null,
    ...over,
  };
}

export function policyInput(object: JsonObject | null, over: Partial<PolicyInput> = {}): PolicyInput {
  const metadata = (object?.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    face: 'admission',
    actor: {
      username: AGENT,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'],
      extra: {},
      agent: true,
      serviceAccount: { namespace: 'agents', name: 'remediator' },
    },
    action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
    resource: {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      resource: 'deployments',
      namespace: metadata.namespace ?? 'prod',
      name: metadata.name ?? 'web',
    },
    object,
    oldObject: null,
    options: null,
    dryRun: false,
    namespace: { name: metadata.namespace ?? 'prod' },
    context: { workflow: 'scale-up-v1', confidence: 0.7, source: 'annotation' },
    tool: null,
    content: null,
    ...over,
  };
}

export function deferred(uid: string, object: JsonObject | null = deployment(), over: Partial<DeferredRequest> = {}): DeferredRequest {
  return { input: policyInput(object), decision: deferDecision(), revision: 'rev-1', requestUid: uid, idempotent: true, dryRun: false, ...over };
}

/** A deferred tool call (the agent gate's tool-call face): no object, the tool and its arguments. */
export function toolCallDeferred(uid: string, args: JsonObject, over: Partial<DeferredRequest> = {}): DeferredRequest {
  const target = { verb: 'create', group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', name: 'default-admin', cluster: 'prod-eu1' };
  const input = policyInput(null, {
    face: 'toolcall',
    resource: { group: target.group, version: '', kind: target.kind, resource: '', namespace: '', name: target.name },
    namespace: null,
    tool: { name: 'resources_create_or_update', arguments: args, target },
  });
  return { input, decision: deferDecision(), revision: 'rev-1', requestUid: uid, dryRun: false, ...over };
}

/** A deferred Secret read (the authorization face). */
export function secretRead(uid: string, over: Partial<DeferredRequest> = {}): DeferredRequest {
  const input = policyInput(null, {
    face: 'authorization',
    action: { operation: 'GET', verb: 'get', subresource: '', dryRun: false },
    resource: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'prod', name: 'db-credentials' },
  });
  return { input, decision: deferDecision(), revision: 'rev-1', requestUid: uid, dryRun: false, ...over };
}

/** Who is an agent in these tests (the default bundle's selector): a local store refuses decisions without one. */
export const AGENTS: AgentSelector = { serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], usernames: [] };
export const withAgents = { agents: (): AgentSelector => AGENTS };
