// The admission face over real HTTPS: AdmissionReview JSON in, every protocol
// field checked on the way out.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observe/log.js';
import { deploymentRequest, reviewOf } from '../src/testkit/admission.js';
import { buildBundle, TEST_POLICY_DIR } from '../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from './gateway.js';

let gateway: Gateway;
let ca: Buffer;

interface Reply {
  status: number;
  body: any;
  text: string;
}

function post(pathname: string, body: string | Buffer, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(pathname, gateway.url);
    const req = https.request(url, { method: 'POST', ca, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(pathname: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    https
      .get(new URL(pathname, gateway.url), { ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : undefined, text });
        });
      })
      .on('error', reject);
  });
}

function review(labels: Record<string, string>, over: Record<string, unknown> = {}) {
  return reviewOf({
    ...deploymentRequest(labels),
    requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    ...over,
  });
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-http-'));
  const bundlePath = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundlePath, buildBundle(TEST_POLICY_DIR, { revision: 'http-rev' }));
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, 'tls'),
    approvals: { stateDir: path.join(dir, 'state') },
    log: silentLogger,
    bodyLimit: 256 * 1024,
  });
  ca = readFileSync(gateway.caFile);
});

afterAll(async () => {
  await gateway?.close();
});

describe('admission over HTTPS', () => {
  it('serves with a certificate for 127.0.0.1 signed by the dev CA', async () => {
    const res = await get('/healthz');
    expect(res).toMatchObject({ status: 200, text: 'ok' });
  });

  it('is ready with the bundle revision', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ready: true, revision: 'http-rev', lastFailure: null });
  });

  it('allows with the same uid and no status', async () => {
    const res = await post('/validate', JSON.stringify(review({})));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true, auditAnnotations: { decision: 'allow', revision: 'http-rev', mode: 'approve' } },
    });
  });

  it('denies with 403 Forbidden, the rule in the message, and audit annotations', async () => {
    const res = await post('/validate', JSON.stringify(review({ 'test/decision': 'deny', 'test/warn': 'yes' })));
    expect(res.body.response).toEqual({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'Deployment web is labelled deny [rule test.deny]' },
      warnings: ['test warning: looked at by the test policy'],
      auditAnnotations: { decision: 'deny', revision: 'http-rev', rules: 'test.deny', mode: 'approve' },
    });
  });

  it('answers defer as a refusal that says approval is required', async () => {
    const res = await post('/validate', JSON.stringify(review({ 'test/decision': 'defer' })));
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.code).toBe(403);
    expect(res.body.response.status.message).toMatch(/^approval required: this change needs a human \[rule test\.defer\]\. /);
    expect(res.body.response.auditAnnotations.decision).toBe('defer');
  });

  it('sends fixes as a base64 JSONPatch on /mutate, and nothing on reinvocation', async () => {
    const res = await post('/mutate', JSON.stringify(review({ 'test/fix': 'yes' })));
    const response = res.body.response;
    expect(response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(JSON.parse(Buffer.from(response.patch, 'base64').toString())).toEqual([{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }]);
    expect(response.warnings).toEqual(['belay fixed: the object needs the fixed label (test.fix)']);
    expect(response.auditAnnotations).toMatchObject({ decision: 'fix', rules: 'test.fix' });

    const again = await post('/mutate', JSON.stringify(review({ 'test/fix': 'yes', fixed: 'true' })));
    expect(again.body.response.patch).toBeUndefined();
    expect(again.body.response.patchType).toBeUndefined();
    expect(again.body.response.allowed).toBe(true);
  });

  it('admits a non-agent untouched, even when policy would deny', async () => {
    const res = await post(
      '/validate',
      JSON.stringify(review({ 'test/decision': 'deny' }, { userInfo: { username: 'bob', groups: ['system:authenticated'] } })),
    );
    expect(res.body.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
  });

  it('handles DELETE (object null, oldObject set) and CONNECT pods/exec', async () => {
    const del = review(
      {},
      { operation: 'DELETE', object: null, oldObject: review({}).request.object, options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' } },
    );
    const delRes = await post('/validate', JSON.stringify(del));
    expect(delRes.body.response.status.message).toMatch(/deleting web needs approval \[rule test\.delete\]/);

    const exec = review(
      {},
      {
        operation: 'CONNECT',
        kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: 'exec',
        name: 'web-1',
        object: { kind: 'PodExecOptions', apiVersion: 'v1', stdin: true, tty: true, container: 'web', command: ['sh'] },
        options: null,
      },
    );
    const execRes = await post('/validate', JSON.stringify(exec));
    expect(execRes.body.response.status).toEqual({ code: 403, reason: 'Forbidden', message: 'exec by agents is refused in tests [rule test.exec]' });
  });

  describe('bad input', () => {
    it.each([
      ['non-JSON', '{"apiVersion": ', 400, /not valid JSON/],
      ['an array', '[]', 400, /must be an AdmissionReview object/],
      ['no request and no uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 400, /kind|request/],
      [
        'a v1beta1 review without uid',
        JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }),
        400,
        /apiVersion must be admission\.k8s\.io\/v1/,
      ],
    ])('answers %s with a 400 JSON error', async (_name, body, status, message) => {
      const res = await post('/validate', body);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe('bad_request');
      expect(res.body.error.message).toMatch(message);
    });

    it('answers a known uid in-protocol when a field is wrong', async () => {
      const bad = review({});
      (bad.request as Record<string, unknown>).operation = 'EXPLODE';
      const res = await post('/validate', JSON.stringify(bad));
      expect(res.status).toBe(200);
      expect(res.body.response).toMatchObject({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: false, status: { code: 400, reason: 'BadRequest' } });
      expect(res.body.response.status.message).toMatch(/request\.operation must be one of/);
    });

    it('refuses a wrong apiVersion even with a uid', async () => {
      const res = await post('/validate', JSON.stringify({ ...review({}), apiVersion: 'admission.k8s.io/v1beta1' }));
      expect(res.body.response).toMatchObject({ allowed: false, status: { code: 400 } });
      expect(res.body.response.status.message).toMatch(/admissionReviewVersions: \[v1\]/);
    });

    it('refuses a missing uid', async () => {
      const bad = review({});
      delete (bad.request as Record<string, unknown>).uid;
      const res = await post('/validate', JSON.stringify(bad));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('request.uid is missing');
    });

    it('refuses a body over the limit with 413', async () => {
      const big = review({ big: 'x'.repeat(300 * 1024) });
      const res = await post('/validate', JSON.stringify(big));
      expect(res.status).toBe(413);
      expect(res.body.error).toEqual({ code: 'payload_too_large', message: 'request body exceeds the 262144 byte limit' });
    });

    it('refuses a non-JSON content type with 415', async () => {
      const res = await post('/validate', 'kind: AdmissionReview', 'application/yaml');
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
    });

    it('evaluates unknown kinds and hostile strings without harm', async () => {
      const hostile = '"; drop table; \u0000 <script>alert(1)</script> ../../etc/passwd \u202e';
      const res = await post(
        '/validate',
        JSON.stringify(
          review(
            { 'test/decision': 'deny' },
            {
              kind: { group: 'evil.example.com', version: 'v1', kind: hostile },
              resource: { group: 'evil.example.com', version: 'v1', resource: 'things' },
              name: hostile,
              object: { apiVersion: 'evil.example.com/v1', kind: hostile, metadata: { name: hostile, labels: { 'test/decision': 'deny' } } },
            },
          ),
        ),
      );
      expect(res.body.response.allowed).toBe(false);
      expect(res.body.response.status.message).toContain(hostile);
    });

    it('keeps a proto-pollution attempt inert', async () => {
      const body = JSON.stringify(review({})).replace('"labels":{}', '"labels":{},"__proto__":{"polluted":true}');
      const res = await post('/validate', body);
      expect(res.body.response.allowed).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers unknown paths with 404 JSON', async () => {
      const res = await post('/nope', '{}');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });

  it('exposes Prometheus metrics for decisions, rules, latency and the bundle', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^belay_decisions_total\{face="validate",outcome="deny",mode="approve",revision="http-rev"\} [1-9]/m);
    expect(res.text).toMatch(/^belay_decisions_total\{face="mutate",outcome="fix",mode="approve",revision="http-rev"\} 1$/m);
    expect(res.text).toMatch(/^belay_rule_hits_total\{face="validate",rule="test\.deny",outcome="deny"\} [1-9]/m);
    expect(res.text).toMatch(/^belay_evaluation_duration_seconds_bucket\{le="0\.001",face="validate"\} \d+/m);
    expect(res.text).toMatch(/^belay_bundle_info\{revision="http-rev",digest="[0-9a-f]{12}",source=".*bundle\.tar\.gz"\} 1$/m);
  });
});
