// Signatures in OPA's format, against the real opa CLI both ways: bundles
// signed by `opa build --signing-key` verify here; bundles signed here verify
// in `opa build --verification-key`; every kind of tampering is refused.

import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { opaBinary, writeTree } from '../testkit/opa-bundle.js';
import { type ArchiveFiles, readArchive } from './archive.js';
import { hashBundleFile } from './filehash.js';
import { packArchive } from './pack.js';
import { signArchive, signFiles, signingKey } from './sign.js';
import { type VerificationConfig, verificationConfig, verificationKey, verifyBundleSignature } from './verify.js';

const POLICY = 'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow", "reasons": [], "n": data.belay.n}\n';
// Numbers kept as written (1.50), escapes Go writes differently from JSON.stringify (\u2028): the canonical hash must match OPA's.
const DATA = '{"belay": {"n": 1.50, "text": "a\\u2028b<&>", "list": [1e3, -0, {"z": 1, "a": 2}]}}';

let dir: string;
const keys: Record<string, { priv: string; pub: string }> = {};

function opa(args: string[]): { code: number; out: string } {
  const r = spawnSync(opaBinary(), args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** A wasm bundle signed by opa itself. */
function opaSigned(name: string, key: string, alg: string, extra: string[] = []): Buffer {
  const out = path.join(dir, name);
  execFileSync(
    opaBinary(),
    [
      'build',
      '-b',
      '-t',
      'wasm',
      '-e',
      'belay/admission/decision',
      '--revision',
      'signed-1',
      '--signing-key',
      path.join(dir, key),
      '--signing-alg',
      alg,
      ...extra,
      '-o',
      out,
      path.join(dir, 'src'),
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(out);
}

function config(id: string, pub: string, algorithm: string, more: Partial<VerificationConfig> = {}, scope?: string): VerificationConfig {
  return verificationConfig([verificationKey(pub, { id, algorithm, ...(scope ? { scope } : {}) })], more);
}

beforeAll(() => {
  dir = writeTree({ 'src/policy.rego': POLICY, 'src/data.json': DATA });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  for (const [name, pair] of Object.entries({ rsa, ec, other })) {
    keys[name] = {
      priv: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pub: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    writeFileSync(path.join(dir, `${name}.pem`), keys[name]!.priv);
    writeFileSync(path.join(dir, `${name}.pub`), keys[name]!.pub);
  }
});

describe('bundles signed by opa verify in belay', () => {
  it('RS256 with the default key id', async () => {
    const files = await readArchive(opaSigned('rsa.tar.gz', 'rsa.pem', 'RS256'));
    const v = await verifyBundleSignature(files, config('default', keys.rsa!.pub, 'RS256'));
    expect(v).toMatchObject({ keyId: 'default', algorithm: 'RS256', scope: '' });
    expect(v!.files.sort()).toEqual(['/.manifest', '/data.json', '/policy.wasm', [...files.keys()].find((n) => n.endsWith('/policy.rego'))]);
  });

  it('ES256 with a named key and a scope claim', async () => {
    writeFileSync(path.join(dir, 'claims.json'), JSON.stringify({ scope: 'write' }));
    const files = await readArchive(opaSigned('ec.tar.gz', 'ec.pem', 'ES256', ['--verification-key-id', 'ci', '--claims-file', path.join(dir, 'claims.json')]));
    expect(await verifyBundleSignature(files, config('ci', keys.ec!.pub, 'ES256', {}, 'write'))).toMatchObject({
      keyId: 'ci',
      algorithm: 'ES256',
      scope: 'write',
    });
    await expect(verifyBundleSignature(files, config('ci', keys.ec!.pub, 'ES256', { scope: 'read' }))).rejects.toThrow(
      'scope "write" in the JWT does not match the configured scope "read"',
    );
  });

  it('hashes every file exactly as opa does (structured files canonically, numbers as written)', async () => {
    const files = await readArchive(opaSigned('rsa2.tar.gz', 'rsa.pem', 'RS256'));
    const token = JSON.parse(files.get('/.signatures.json')!.toString()).signatures[0] as string;
    const listed = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).files as { name: string; hash: string }[];
    for (const f of listed) expect(hashBundleFile(f.name, files.get(`/${f.name}`)!), f.name).toBe(f.hash);
    expect(files.get('/data.json')!.toString()).toContain('1.50');
  });
});

describe('bundles signed by belay verify in opa', () => {
  it.each([
    ['RS256', 'rsa', []],
    ['ES256', 'ec', ['--verification-key-id', 'ci']],
  ] as const)('%s', async (alg, key, idArgs) => {
    const plain = path.join(dir, `plain-${alg}.tar.gz`);
    execFileSync(opaBinary(), ['build', '-t', 'wasm', '-e', 'belay/admission/decision', '-o', plain, path.join(dir, 'src')], { stdio: 'pipe' });
    const keyId = idArgs.length ? 'ci' : 'default';
    const signed = await signArchive(readFileSync(plain), { ...signingKey(keys[key]!.priv, alg), keyId });
    writeFileSync(path.join(dir, `belay-${alg}.tar.gz`), signed);
    const ok = opa(['build', '-b', '--verification-key', `${key}.pub`, '--signing-alg', alg, ...idArgs, `belay-${alg}.tar.gz`, '-o', `out-${alg}.tar.gz`]);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
    // and opa refuses it with another key, so the check above was real
    const bad = opa(['build', '-b', '--verification-key', 'other.pub', ...idArgs, `belay-${alg}.tar.gz`, '-o', 'x.tar.gz']);
    expect(bad.code).not.toBe(0);
    // belay verifies its own signature too
    expect(await verifyBundleSignature(await readArchive(signed), config(keyId, keys[key]!.pub, alg))).toMatchObject({ keyId });
  });

  it('HS256 and EdDSA round-trip', async () => {
    const files: ArchiveFiles = new Map([
      ['/data.json', Buffer.from(DATA)],
      ['/policy.wasm', Buffer.from([0, 97, 115, 109])],
    ]);
    const ed = generateKeyPairSync('ed25519');
    const signedEd = await signFiles(files, { key: ed.privateKey, algorithm: 'EdDSA', keyId: 'ed' });
    expect(await verifyBundleSignature(signedEd, verificationConfig([{ id: 'ed', algorithm: 'EdDSA', key: ed.publicKey }]))).toMatchObject({
      algorithm: 'EdDSA',
    });
    const signedHs = await signFiles(files, { ...signingKey('s3cret-shared', 'HS256'), keyId: 'hs' });
    expect(await verifyBundleSignature(signedHs, config('hs', 's3cret-shared', 'HS256'))).toMatchObject({ algorithm: 'HS256' });
    await expect(verifyBundleSignature(signedHs, config('hs', 'another', 'HS256'))).rejects.toThrow(/does not verify with key "hs"/);
  });
});

describe('refusals', () => {
  let signed: ArchiveFiles;
  const cfg = () => config('default', keys.rsa!.pub, 'RS256');
  beforeAll(async () => {
    signed = await readArchive(opaSigned('base.tar.gz', 'rsa.pem', 'RS256'));
  });
  const variant = (edit: (f: ArchiveFiles) => void): ArchiveFiles => {
    const copy: ArchiveFiles = new Map(signed);
    edit(copy);
    return copy;
  };
  const token = () => JSON.parse(signed.get('/.signatures.json')!.toString()).signatures[0] as string;
  const withToken = (t: string) => variant((f) => f.set('/.signatures.json', Buffer.from(JSON.stringify({ signatures: [t] }))));

  it('a changed file', async () => {
    const tampered = variant((f) => f.set('/data.json', Buffer.from('{"belay": {"n": 2}}')));
    await expect(verifyBundleSignature(tampered, cfg())).rejects.toThrow(
      /file \/data.json: digest mismatch \(signed [0-9a-f]{64}, found [0-9a-f]{64}\): the file was changed after signing/,
    );
    const wasm = variant((f) => f.set('/policy.wasm', Buffer.concat([signed.get('/policy.wasm')!, Buffer.from([0])])));
    await expect(verifyBundleSignature(wasm, cfg())).rejects.toThrow(/\/policy.wasm: digest mismatch/);
  });

  it('whitespace in a JSON file is not a change (canonical hashing), a changed number is', async () => {
    const spaced = variant((f) =>
      f.set('/data.json', Buffer.from(`\n  ${signed.get('/data.json')!.toString().replace(/,/g, ' ,\n\t ').replace(/:/g, ' :  ')}\r\n`)),
    );
    await expect(verifyBundleSignature(spaced, cfg())).resolves.toBeTruthy();
    const renumbered = variant((f) => f.set('/data.json', Buffer.from(signed.get('/data.json')!.toString().replace('1.50', '1.5'))));
    await expect(verifyBundleSignature(renumbered, cfg())).rejects.toThrow(/digest mismatch/);
  });

  it('a changed signature or payload', async () => {
    const [h, p, s] = token().split('.');
    const flipped = `${h}.${p}.${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
    await expect(verifyBundleSignature(withToken(flipped), cfg())).rejects.toThrow(/the JWT signature does not verify with key "default" \(RS256\)/);
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.files[0].hash = '0'.repeat(64);
    await expect(verifyBundleSignature(withToken(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`), cfg())).rejects.toThrow(
      /does not verify/,
    );
  });

  it('an unknown key, a wrong algorithm, another key', async () => {
    await expect(verifyBundleSignature(signed, config('prod', keys.rsa!.pub, 'RS256'))).rejects.toThrow(
      'signed with key "default", which is not a configured verification key (configured: prod)',
    );
    await expect(verifyBundleSignature(signed, config('default', keys.ec!.pub, 'ES256'))).rejects.toThrow(
      /signed with RS256 but key "default" is configured for ES256/,
    );
    await expect(verifyBundleSignature(signed, config('default', keys.other!.pub, 'RS256'))).rejects.toThrow(/does not verify with key "default"/);
  });

  it('an added file, a removed file', async () => {
    const added = variant((f) => f.set('/evil.rego', Buffer.from('package evil')));
    await expect(verifyBundleSignature(added, cfg())).rejects.toThrow(
      'bundle signature: file /evil.rego is not listed in the signature: it was added after signing',
    );
    const rego = [...signed.keys()].find((n) => n.endsWith('/policy.rego'))!;
    const removed = variant((f) => f.delete(rego));
    await expect(verifyBundleSignature(removed, cfg())).rejects.toThrow(`bundle signature: the signature lists file the bundle lacks: ${rego}`);
    // excluded files are neither required nor checked
    await expect(verifyBundleSignature(added, config('default', keys.rsa!.pub, 'RS256', { exclude: ['*.rego'] }))).resolves.toBeTruthy();
  });

  it('unsigned when keys are set; signed when none are; malformed signature files', async () => {
    const unsigned = variant((f) => f.delete('/.signatures.json'));
    await expect(verifyBundleSignature(unsigned, cfg())).rejects.toThrow('the bundle is not signed (no .signatures.json) but verification keys are configured');
    await expect(verifyBundleSignature(unsigned, null)).resolves.toBeNull();
    await expect(verifyBundleSignature(signed, null)).rejects.toThrow('the bundle is signed but no verification key is configured');
    await expect(
      verifyBundleSignature(
        variant((f) => f.set('/.signatures.json', Buffer.from('{"signatures": []}'))),
        cfg(),
      ),
    ).rejects.toThrow('holds no JWT');
    await expect(
      verifyBundleSignature(
        variant((f) => f.set('/.signatures.json', Buffer.from(JSON.stringify({ signatures: [token(), token()] })))),
        cfg(),
      ),
    ).rejects.toThrow('several JWTs');
    await expect(
      verifyBundleSignature(
        variant((f) => f.set('/.signatures.json', Buffer.from('nope'))),
        cfg(),
      ),
    ).rejects.toThrow('.signatures.json is not JSON');
  });

  it('a repacked archive with the same files still verifies', async () => {
    await expect(verifyBundleSignature(await readArchive(packArchive(signed)), cfg())).resolves.toBeTruthy();
  });
});
