// Test support: the admission requests the gateway's own tests send, built in
// one place. Labels on the object steer src/testkit/policies/admission.

import type { JsonObject, PolicyInput } from '../contract/index.js';
import type { AdmissionRequest } from '../input/admission.js';

export const TEST_AGENT = {
  username: 'system:serviceaccount:agents:bot',
  uid: 'u-1',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'],
};

export const TEST_HUMAN = { username: 'bob', groups: ['system:authenticated'] };

/** An agent's CREATE of Deployment team-a/web carrying `labels`; `over` replaces request fields. */
export function deploymentRequest(labels: Record<string, string>, over: Partial<AdmissionRequest> & { replicas?: number } = {}): AdmissionRequest {
  const { replicas, ...rest } = over;
  return {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: 'web',
    namespace: 'team-a',
    operation: 'CREATE',
    userInfo: TEST_AGENT,
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'team-a', labels },
      spec: {
        ...(replicas === undefined ? {} : { replicas }),
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
    },
    ...rest,
  };
}

/** An agent's CREATE of `object` (group, version, kind, name and namespace read from it), as the API server sends it. */
export function agentCreate(object: JsonObject, resource: string, userInfo: AdmissionRequest['userInfo'] = TEST_AGENT): AdmissionRequest {
  const apiVersion = String(object.apiVersion ?? '');
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800003',
    kind: { group, version, kind: String(object.kind ?? '') },
    resource: { group, version, resource },
    name: meta.name ?? '',
    ...(meta.namespace ? { namespace: meta.namespace } : {}),
    operation: 'CREATE',
    userInfo,
    object,
  };
}

/** The AdmissionReview v1 envelope the API server sends around a request. */
export function reviewOf(request: AdmissionRequest | Record<string, unknown>): { apiVersion: string; kind: string; request: Record<string, unknown> } {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request as Record<string, unknown> };
}

/** The policy input for an agent's Deployment CREATE, for evaluating a bundle directly. */
export function deploymentInput(labels: Record<string, string>, name = 'web'): PolicyInput {
  return {
    face: 'admission',
    actor: { username: 'robot', groups: [], extra: {}, agent: true, serviceAccount: null },
    action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
    resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'team-a', name },
    object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels } },
    oldObject: null,
    options: null,
    dryRun: false,
    namespace: { name: 'team-a' },
    context: {},
    tool: null,
    content: null,
  };
}
