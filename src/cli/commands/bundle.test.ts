import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { belay } from '../../testkit/cli.js';
import { buildBundle, writeTree } from '../../testkit/opa-bundle.js';

let dir: string;
beforeAll(() => {
  dir = writeTree({
    'src/p.rego':
      'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow", "reasons": [{"rule": "r", "message": sprintf("%s", [input.resource.name]), "severity": "low"}]}\n',
    'src/toolcall.rego': 'package belay.toolcall\nimport rego.v1\ndecision := {"decision": "allow", "reasons": []}\n',
    'src/data.json': JSON.stringify({ belay: { config: { agents: { groups: ['belay:agents'] } }, trust: { mode: 'observe' } } }),
    'missing/p.rego':
      'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow", "reasons": [], "x": crypto.x509.parse_certificates(input.resource.name)}\n',
  });
  writeFileSync(
    path.join(dir, 'b.tar.gz'),
    buildBundle(path.join(dir, 'src'), { revision: 'rev-42', entrypoints: ['belay/admission/decision', 'belay/toolcall/decision'] }),
  );
  writeFileSync(path.join(dir, 'missing.tar.gz'), buildBundle(path.join(dir, 'missing'), { revision: 'm' }));
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(path.join(dir, 'ec.pem'), k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(path.join(dir, 'ec.pub'), k.publicKey.export({ type: 'spki', format: 'pem' }));
  const o = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(path.join(dir, 'other.pub'), o.publicKey.export({ type: 'spki', format: 'pem' }));
});

describe('belay bundle inspect', () => {
  it('shows revision, roots, entrypoints, faces, data keys, built-ins and files', async () => {
    const r = await belay('bundle', 'inspect', path.join(dir, 'b.tar.gz'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('revision     rev-42');
    expect(r.out).toContain('roots        (all of data)');
    expect(r.out).toContain('entrypoints  belay/admission/decision, belay/toolcall/decision');
    expect(r.out).toContain('faces        admission, toolcall   (no entrypoint for authorization, toolresult, prompt)');
    expect(r.out).toContain('built-ins    sprintf (belay)');
    expect(r.out).toContain('data keys    belay.config.agents, belay.trust.mode');
    expect(r.out).toContain('signature    unsigned');
    expect(r.out).toMatch(/\/policy\.wasm/);
    const json = JSON.parse((await belay('bundle', 'inspect', '-o', 'json', path.join(dir, 'b.tar.gz'))).out);
    expect(json).toMatchObject({ revision: 'rev-42', builtins: [{ name: 'sprintf', provider: 'belay' }], faces: { served: ['admission', 'toolcall'] } });
  });

  it('names a built-in belay cannot provide and exits 1', async () => {
    const r = await belay('bundle', 'inspect', path.join(dir, 'missing.tar.gz'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('crypto.x509.parse_certificates (MISSING: belay cannot run this bundle)');
  });
});

describe('belay bundle sign / verify', () => {
  it('signs in place, verifies with the key, refuses another key and a tampered file', async () => {
    const file = path.join(dir, 'signed.tar.gz');
    writeFileSync(file, readFileSync(path.join(dir, 'b.tar.gz')));
    const signed = await belay('bundle', 'sign', file, '--signing-key', path.join(dir, 'ec.pem'), '--signing-alg', 'ES256', '--key-id', 'ci');
    expect(signed.code).toBe(0);
    expect(signed.err).toContain('signed');

    const ok = await belay('bundle', 'verify', file, '--verification-key', `ci=${path.join(dir, 'ec.pub')}`, '--signing-alg', 'ES256');
    expect(ok.out).toMatch(/^verified: revision rev-42, signed by key ci \(ES256\), 5 files\n$/);
    expect(ok.code).toBe(0);

    const wrong = await belay('bundle', 'verify', file, '--verification-key', `ci=${path.join(dir, 'other.pub')}`, '--signing-alg', 'ES256');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/belay bundle verify: bundle signature: the JWT signature does not verify with key "ci"/);

    const inspected = await belay('bundle', 'inspect', file, '--verification-key', `ci=${path.join(dir, 'ec.pub')}`, '--signing-alg', 'ES256');
    expect(inspected.out).toContain('signature    ES256 key ci, 5 files listed: VERIFIED');

    const usage = await belay('bundle', 'verify', file);
    expect(usage.code).toBe(2);
    expect((await belay('bundle', 'sign', file)).code).toBe(2);
  });
});
