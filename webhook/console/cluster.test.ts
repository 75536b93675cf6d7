// The console in cluster mode: whose credentials reach the API server. The
// gateway's own token may only ask who an approver's token belongs to
// (TokenReview); every read and every decision goes out with the approver's
// token, so RBAC and belay's approvals webhook judge the approver. The API
// server here is a recorder on 127.0.0.1 that answers like one (Status
// errors, RBAC refusals, the approvals webhook's verdict computed by the real
// separation rules); the real control plane runs in the e2e suite.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../src/approvals/fingerprint.js';
import { noApprovals } from '../../src/approvals/gate.js';
import { newApprovalRequest } from '../../src/approvals/record.js';
import type { ApprovalRequest } from '../../src/approvals/resource.js';
import { checkStatusChange, stampedStatus } from '../../src/approvals/separation.js';
import { PolicyStore } from '../../src/bundle/active.js';
import { agentSelectorFromData } from '../../src/identity/agents.js';
import { namesOnly } from '../../src/namespaces/directory.js';
import { discardDecisions } from '../../src/observe/decisions.js';
import { silentLogger } from '../../src/observe/log.js';
import { Metrics } from '../../src/observe/metrics.js';
import { deferred, deployment, policyInput } from '../../src/testkit/approval-requests.js';
import { createApp } from '../app.js';
import { DEFAULT_BODY_LIMIT } from '../body.js';
import { consoleAccess, consoleRoutes } from './index.js';

const GATEWAY_TOKEN = 'gateway-service-account-token';
const USERS: Record<string, { username: string; groups: string[] }> = {
  'alice-kube-token': { username: 'alice', groups: ['belay:approvers', 'system:authenticated'] },
  'dana-kube-token': { username: 'dana', groups: ['belay:approvers', 'system:authenticated'] },
  'carol-kube-token': { username: 'carol', groups: ['developers', 'system:authenticated'] },
  [GATEWAY_TOKEN]: { username: 'system:serviceaccount:belay:belay', groups: ['system:serviceaccounts'] },
};
const agents = agentSelectorFromData({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });

interface Seen {
  method: string;
  path: string;
  token: string;
}

/** A recording API server holding ApprovalRequests. */
function fakeApiServer(records: Map<string, ApprovalRequest>) {
  const seen: Seen[] = [];
  const status = (res: http.ServerResponse, code: number, reason: string, message: string) =>
    res
      .writeHead(code, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: url.pathname, token });
      const user = USERS[token];
      if (!user) return status(res, 401, 'Unauthorized', 'Unauthorized');
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const json = (code: number, value: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(value));

      if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
        if (token !== GATEWAY_TOKEN) return status(res, 403, 'Forbidden', `User "${user.username}" cannot create resource "tokenreviews"`);
        const who = USERS[body.spec.token];
        return json(201, { ...body, status: who ? { authenticated: true, user: who } : { authenticated: false, error: 'invalid bearer token' } });
      }
      if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/selfsubjectreviews') {
        return json(201, { ...body, status: { userInfo: user } });
      }
      const m = /^\/apis\/belay\.dev\/v1alpha1\/(?:namespaces\/([^/]+)\/)?approvalrequests(?:\/([^/]+))?(\/status)?$/.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      // RBAC: carol has no role on approvalrequests.
      if (user.username === 'carol')
        return status(
          res,
          403,
          'Forbidden',
          `approvalrequests.belay.dev is forbidden: User "carol" cannot ${m[2] ? 'get' : 'list'} resource "approvalrequests" in API group "belay.dev"${m[1] ? ` in the namespace "${m[1]}"` : ' at the cluster scope'}`,
        );
      const [, namespace, name, sub] = m;
      if (req.method === 'GET' && !name)
        return json(200, {
          apiVersion: 'belay.dev/v1alpha1',
          kind: 'ApprovalRequestList',
          metadata: {},
          items: [...records.values()].filter((r) => !namespace || r.metadata.namespace === namespace),
        });
      const current = records.get(`${namespace}/${name}`);
      if (!current) return status(res, 404, 'NotFound', `approvalrequests.belay.dev "${name}" not found`);
      if (req.method === 'GET' && !sub) return json(200, current);
      if (req.method === 'PATCH' && sub) {
        if (req.headers['content-type'] !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', 'merge patch expected');
        const next: ApprovalRequest = { ...current, status: { ...(current.status ?? { phase: 'Pending' }), ...body.status } };
        // belay's approvals webhooks, as the API server would call them: stamp, then judge.
        const ctx = { gatewayUser: USERS[GATEWAY_TOKEN]!.username, agents, now: new Date() };
        const stamped = stampedStatus(current, next, user, ctx);
        const judged = { ...next, ...(stamped ? { status: stamped } : {}) };
        const check = checkStatusChange(current, judged, user, ctx);
        if (!check.ok) return status(res, 403, 'Forbidden', `admission webhook "validate-approval.belay.dev" denied the request: ${check.message}`);
        const stored = { ...judged, metadata: { ...judged.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) + 1) } };
        records.set(`${namespace}/${name}`, stored);
        return json(200, stored);
      }
      return status(res, 405, 'MethodNotAllowed', 'method not allowed');
    });
  });
  return { server, seen };
}

function approval(name: string, onBehalfOf?: string): ApprovalRequest {
  const object = deployment(3, { name });
  const input = policyInput(object, onBehalfOf ? { actor: { ...policyInput(null).actor, extra: { 'belay.dev/on-behalf-of': [onBehalfOf] } } } : {});
  const r = newApprovalRequest({ ...deferred('u', object), input }, requestKeys(input), { namespace: 'prod', attempt: 1, now: new Date() });
  return { ...r, metadata: { ...r.metadata, resourceVersion: '10', creationTimestamp: new Date().toISOString() }, status: { phase: 'Pending' } };
}

let api: ReturnType<typeof fakeApiServer>;
let app: http.Server;
let base: string;
const records = new Map<string, ApprovalRequest>();
const first = approval('web');
const self = approval('self', 'dana');

beforeAll(async () => {
  records.set(`prod/${first.metadata.name}`, first);
  records.set(`prod/${self.metadata.name}`, self);
  api = fakeApiServer(records);
  await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP on loopback: client-node allows it only with skipTLSVerify.
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'belay', token: GATEWAY_TOKEN }],
    contexts: [{ name: 'c', cluster: 'c', user: 'belay' }],
    currentContext: 'c',
  });
  const metrics = new Metrics({ defaultMetrics: false });
  const express = createApp(
    {
      store: new PolicyStore(),
      approvals: noApprovals,
      namespaces: namesOnly,
      agents: () => agents,
      instruments: { metrics, log: silentLogger, decisions: discardDecisions },
      bodyLimit: DEFAULT_BODY_LIMIT,
      console: consoleAccess({ kubeConfig: kc }),
    },
    [consoleRoutes],
  );
  app = await new Promise((resolve) => {
    const s = express.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

afterAll(async () => {
  app?.closeAllConnections();
  await new Promise((r) => app?.close(r));
  api?.server.closeAllConnections();
  await new Promise((r) => api?.server.close(r));
});

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}/console/api/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const approvalCalls = () => api.seen.filter((s) => s.path.startsWith('/apis/belay.dev/') || s.path.endsWith('/selfsubjectreviews'));

describe('console in cluster mode', () => {
  it("asks who a token is with a TokenReview, and reads approvals with the approver's own token", async () => {
    const me = await call('GET', 'session', 'alice-kube-token');
    expect(me).toEqual({ status: 200, body: { user: { username: 'alice', groups: ['belay:approvers', 'system:authenticated'] }, mode: 'cluster' } });
    expect(api.seen.filter((s) => s.path.endsWith('/tokenreviews')).map((s) => s.token)).toEqual([GATEWAY_TOKEN]);
    const list = await call('GET', 'approvals', 'alice-kube-token');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ mode: 'cluster', pending: 2 });
    const one = await call('GET', `approvals/prod/${first.metadata.name}`, 'alice-kube-token');
    expect(one.body).toMatchObject({ id: `prod/${first.metadata.name}`, phase: 'Pending', resourceVersion: '10' });
    // The list, then the request and the requests beside it (its object's history, its workflow run): all as alice.
    expect(approvalCalls().map((s) => s.token)).toEqual(['alice-kube-token', 'alice-kube-token', 'alice-kube-token']);
  });

  it("decides with the approver's token; the API server records them as the decider", async () => {
    const r = await call('POST', `approvals/prod/${first.metadata.name}/decision`, 'alice-kube-token', {
      action: 'approve',
      message: 'ok',
      resourceVersion: '10',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ phase: 'Approved', decision: { by: 'alice', message: 'ok' }, resourceVersion: '11' });
    const patch = api.seen.filter((s) => s.method === 'PATCH');
    expect(patch).toEqual([
      { method: 'PATCH', path: `/apis/belay.dev/v1alpha1/namespaces/prod/approvalrequests/${first.metadata.name}/status`, token: 'alice-kube-token' },
    ]);
  });

  it("surfaces the approvals webhook's refusal of a self-approval as 403 with its reason", async () => {
    const r = await call('POST', `approvals/prod/${self.metadata.name}/decision`, 'dana-kube-token', { action: 'approve' });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/admission webhook "validate-approval\.belay\.dev" denied the request: .* on behalf of dana, who may not decide it/),
    });
    expect(records.get(`prod/${self.metadata.name}`)?.status?.phase).toBe('Pending');
  });

  it('surfaces an RBAC refusal, and refuses a token the API server does not know', async () => {
    const list = await call('GET', 'approvals', 'carol-kube-token');
    expect(list.status).toBe(403);
    expect(list.body.error.message).toMatch(/User "carol" cannot list resource "approvalrequests"/);
    const bad = await call('GET', 'approvals', 'stolen-or-expired-token');
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toMatch(/not valid: invalid bearer token/);
  });

  it("never used the gateway's own token for approvals", () => {
    expect(approvalCalls().length).toBeGreaterThan(0);
    expect(approvalCalls().filter((s) => s.token === GATEWAY_TOKEN)).toEqual([]);
    expect(api.seen.filter((s) => s.token === GATEWAY_TOKEN).every((s) => s.path.endsWith('/tokenreviews'))).toBe(true);
  });
});
