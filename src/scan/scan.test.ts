import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BelayError } from '../errors.js';
import { REDACTED, redactSpans, scanText, shannonEntropy } from './index.js';

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: object) => `${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url(claims)}.${'Sg7_c2lnbmF0dXJlLWJ5dGVzLW5vdC1yZWFs'.repeat(3)}`;

const OPENSHIFT = 'sha256~Qm9ndXNUb2tlbkZvclRlc3RzT25seV8xMjM0NTY3OAx'; // 43 chars after ~
const SA_JWT = jwt({ iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/namespace': 'agents', sub: 'system:serviceaccount:agents:remediator' });
const BOUND_SA_JWT = jwt({ iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:agents:bot', 'kubernetes.io': { namespace: 'agents' } });
const OTHER_JWT = jwt({ iss: 'https://accounts.example.com', sub: '1234', aud: 'web' });
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB',
  'aFDrBz9vFqU4yB1UjGsJ0u0Ry0cF5rvTzD5d0mCHrPLCnAvuX8kRsQe5yV2Cp7zR',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

async function kinds(text: string): Promise<string[]> {
  return (await scanText(text)).findings.map((f) => f.kind);
}

describe('scanText finds each kind of secret', () => {
  it('an OpenShift token in a pasted log, with its span', async () => {
    const text = `I0312 10:01:02 request failed\nAuthorization header was ${OPENSHIFT} and the pod crashed`;
    const { findings, redacted } = await scanText(text);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ kind: 'cluster-token', rule: 'belay/openshift-token', line: 2 });
    expect(text.slice(f.start, f.end)).toBe(OPENSHIFT);
    expect(redacted).toBe(`I0312 10:01:02 request failed\nAuthorization header was ${REDACTED} and the pod crashed`);
  });

  it('service-account JWTs (legacy and bound) and other JWTs', async () => {
    expect(await kinds(`token: ${SA_JWT}`)).toEqual(['service-account-token']);
    expect(await kinds(`here ${BOUND_SA_JWT} there`)).toEqual(['service-account-token']);
    expect(await kinds(`id_token=${OTHER_JWT}`)).toEqual(['jwt']);
  });

  it('PEM private keys, raw and JSON-escaped', async () => {
    const raw = await scanText(`key:\n${PEM}\nend`);
    expect(raw.findings.map((f) => f.kind)).toEqual(['private-key']);
    expect(raw.redacted).toBe(`key:\n${REDACTED}\nend`);
    const escaped = JSON.stringify({ type: 'service_account', private_key: `${PEM}\n` });
    expect(await kinds(escaped)).toContain('private-key');
    expect((await scanText(escaped)).redacted).not.toContain('MIIEowIBAAKCAQEA');
  });

  it('cloud provider keys', async () => {
    expect(await kinds('export AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH')).toEqual(['cloud-key']);
    expect(await kinds('AWS_SECRET_ACCESS_KEY=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')).toEqual(['cloud-key']);
    expect(await kinds('maps key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW ok')).toEqual(['cloud-key']);
    expect(await kinds(`DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${'a1B2'.repeat(21)}Zq==;EndpointSuffix=core.windows.net`)).toEqual([
      'cloud-key',
    ]);
  });

  it('kubeconfig credentials', async () => {
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'users:',
      '- name: admin',
      '  user:',
      `    client-key-data: ${Buffer.from('-----BEGIN EC PRIVATE KEY----- not really').toString('base64')}`,
      '- name: ci',
      '  user:',
      '    token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      '- name: basic',
      '  user:',
      '    password: correct-horse',
    ].join('\n');
    const { findings, redacted } = await scanText(kubeconfig);
    // The client key is also recognised as a base64-encoded PEM key, the more specific finding.
    expect(findings.map((f) => f.kind)).toEqual(['private-key', 'kubeconfig-credential', 'kubeconfig-credential']);
    expect(redacted).toContain(`client-key-data: ${REDACTED}`);
    expect(redacted).toContain(`token: ${REDACTED}`);
    expect(redacted).toContain(`password: ${REDACTED}`);
  });

  it('a bootstrap token in a kubeadm join line', async () => {
    expect(await kinds(`kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${'a'.repeat(64)}`)).toEqual([
      'bootstrap-token',
    ]);
  });

  it('API tokens from the maintained rule set', async () => {
    expect(await kinds('GITHUB_TOKEN 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')).toEqual(['api-token']);
    expect(await kinds('postgres://admin:hunter2hunter2@db:5432/app')).toEqual(['connection-string']);
  });

  it('values of credential-named keys, and high-entropy strings after one in prose', async () => {
    expect(await kinds('db_password = "x9Kq2LmZ8vR4tW1pN7sY3bH6"')).toEqual(['password']);
    expect(await kinds('api_key: 7c4a8d09ca3762af61e59520943dc26494f8941b2d')).toEqual(['secret-value']);
    expect(await kinds('the api key 7c4a8d09ca3762af61e59520943dc26494f8941b2d was rotated')).toEqual(['high-entropy']);
  });

  it('a specific detector wins over a generic one on the same span', async () => {
    const { findings } = await scanText(`Authorization: Bearer ${OPENSHIFT}`);
    expect(findings.map((f) => f.kind)).toEqual(['cluster-token']);
  });
});

describe('scanText leaves look-alikes alone', () => {
  it('image digests, UUIDs, commit ids and resource names in a log', async () => {
    const log = [
      'Pulling image "quay.io/openshift/origin-cli@sha256:1f0c6e2b5d8a7c9e3f4b6a1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2"',
      'Successfully pulled image digest sha256:9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
      'pod uid 123e4567-e89b-12d3-a456-426614174000 token-refresh completed for request-id 9f1b7c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e',
      'commit 3f786850e387550fdab836ed7e6dc881de23001b deployed web-7c9d8f6b5-x2x9z',
      'secret volume mounted at /var/run/secrets/kubernetes.io/serviceaccount/token',
      'auth: using config from /etc/kubernetes/admin-kubeconfig-long-path.yaml',
      'password reset email sent to someone@example.com',
    ].join('\n');
    expect((await scanText(log)).findings).toEqual([]);
  });

  it('sha256~ with the wrong length and plain words after "token"', async () => {
    expect(await kinds('sha256~tooShort123')).toEqual([]);
    expect(await kinds(`sha256~${'a'.repeat(44)}`)).toEqual([]);
    expect(await kinds('the token controller has reconciled everything successfully')).toEqual([]);
  });

  it('cannot be switched off with a comment', async () => {
    expect(await kinds(`// secretlint-disable\nAWS_SECRET_ACCESS_KEY=Vx7/0h3kq8mN2pL5rT9wY1zA4bC6dE8fG0hJ2kL4`)).toEqual(['cloud-key']);
  });
});

describe('limits and helpers', () => {
  it('refuses text over the limit with payload_too_large', async () => {
    await expect(scanText('x'.repeat(101), { maxLength: 100 })).rejects.toSatisfy((e: unknown) => e instanceof BelayError && e.code === 'payload_too_large');
  });

  it('entropy of uniform and constant strings', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });

  it('redaction never keeps a character inside a span and keeps everything outside', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.array(fc.tuple(fc.nat(60), fc.nat(20)), { maxLength: 6 }), (text, raw) => {
        const spans = raw.map(([s, l]) => ({ start: Math.min(s, text.length), end: Math.min(s + l, text.length) }));
        const out = redactSpans(text, spans);
        const covered = (i: number) => spans.some((s) => s.start <= i && i < s.end);
        const kept = [...text].map((ch, i) => (covered(i) ? '' : ch)).join('');
        expect(out.split(REDACTED).join('')).toBe(kept.split(REDACTED).join(''));
      }),
    );
  });

  it('scans a large log quickly enough to finish (no catastrophic backtracking)', async () => {
    const line = `token=${'a'.repeat(5000)} -----BEGIN RSA PRIVATE KEY-----\\n${'A'.repeat(5000)} eyJ${'b'.repeat(3000)}.eyJ${'c'.repeat(3000)}\n`;
    const { findings } = await scanText(line.repeat(20));
    expect(Array.isArray(findings)).toBe(true);
  });
});
