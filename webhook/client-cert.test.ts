// Only the API server speaks to the webhooks: with --webhook-client-ca the
// admission, approvals and authorization faces refuse any caller without a
// client certificate from that CA carrying an allowed name — before reading
// its body — so a forged AdmissionReview cannot use up a human's approval;
// the agent API and the console keep their bearer tokens on the same port.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalApprovalStore } from '../src/approvals/local-store.js';
import { phaseOf } from '../src/approvals/resource.js';
import { withAgents } from '../src/testkit/approval-requests.js';
import { type ClientCerts, makeClientCerts } from '../src/testkit/client-certs.js';
import { AGENT_TOKEN, type ConsoleFixture, deferringReview, request, startConsoleGateway, TOKENS } from '../src/testkit/console.js';

const API_SERVER = 'kube-apiserver-webhook-client';
let f: ConsoleFixture;
let certs: ClientCerts;

beforeAll(async () => {
  certs = makeClientCerts(mkdtempSync(path.join(tmpdir(), 'belay-client-certs-')), [API_SERVER, 'system:serviceaccount:agents:bot']);
  f = await startConsoleGateway({ gateway: { webhookClients: { caFile: certs.caFile, names: [API_SERVER] } } });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

const sar = {
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: 'bob', resourceAttributes: { verb: 'get', version: 'v1', resource: 'secrets', namespace: 'team-a', name: 'db' } },
};

describe('webhook faces with the API server client certificate required', () => {
  it('refuse a caller with no certificate, a certificate from another CA, or another name; admit the API server', async () => {
    for (const pathname of ['/validate', '/mutate', '/validate-approval', '/mutate-approval', '/authorize']) {
      const body = pathname === '/authorize' ? sar : deferringReview('cc-1', { labels: { 'test/decision': 'allow' } });
      const none = await request(f, 'POST', pathname, { body });
      expect(none.status, pathname).toBe(401);
      expect(none.body.error.message).toBe(`only the Kubernetes API server may call ${pathname}, and it presented no client certificate`);
      const stranger = await request(f, 'POST', pathname, { body, client: certs.stranger });
      expect(stranger.status, pathname).toBe(401);
      expect(stranger.body.error.message).toMatch(/its client certificate is not from the configured CA/);
      const other = await request(f, 'POST', pathname, { body, client: certs.byName['system:serviceaccount:agents:bot']! });
      expect(other.status, pathname).toBe(403);
      expect(other.body.error.message).toMatch(/"system:serviceaccount:agents:bot" is not one of kube-apiserver-webhook-client/);
      const apiServer = await request(f, 'POST', pathname, { body, client: certs.byName[API_SERVER]! });
      expect(apiServer.status, pathname).toBe(200);
    }
  });

  it('keeps bearer tokens for the agent API and the console on the same listener', async () => {
    const tool = await request(f, 'POST', '/v1/tool-calls:evaluate', { token: AGENT_TOKEN, body: { tool: { name: 'resources_list' } } });
    expect(tool.status).toBe(200);
    const list = await request(f, 'GET', '/console/api/approvals', { token: TOKENS.alice });
    expect(list.status).toBe(200);
  });

  it('lets no forged review use up an approval: the real retry, from the API server, is admitted once', async () => {
    const apiServer = certs.byName[API_SERVER]!;
    const ask = await request(f, 'POST', '/validate', { body: deferringReview('real-1', { name: 'forged-target' }), client: apiServer });
    expect(ask.body.response).toMatchObject({ allowed: false, status: { code: 403 } });
    const store = await LocalApprovalStore.open(path.join(f.dir, 'state'), withAgents);
    const [pending] = await store.list();
    await store.decide(pending!.metadata.namespace, pending!.metadata.name, { phase: 'Approved' }, { username: 'alice', groups: ['belay:approvers'] });

    // The forger sends the very review the agent will send, on both stages, without the API server's certificate.
    for (const stage of ['mutate', 'validate']) {
      const forged = await request(f, 'POST', `/${stage}`, { body: deferringReview(`forged-${stage}`, { name: 'forged-target' }) });
      expect(forged.status).toBe(401);
    }
    expect(phaseOf((await store.get(pending!.metadata.namespace, pending!.metadata.name))!)).toBe('Approved');

    const retry = await request(f, 'POST', '/validate', { body: deferringReview('real-2', { name: 'forged-target' }), client: apiServer });
    expect(retry.body.response).toMatchObject({ uid: 'real-2', allowed: true });
    const again = await request(f, 'POST', '/validate', { body: deferringReview('real-3', { name: 'forged-target' }), client: apiServer });
    expect(again.body.response.allowed).toBe(false);
  });
});
