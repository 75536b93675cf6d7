// The webhook and `belay check` agree on every object: each object of the
// real-world-shaped manifests (src/policytest/testdata/check), its images in a
// real registry on 127.0.0.1, is sent to a running gateway over HTTPS as the
// API server would send it (/mutate, then /validate with the patch applied)
// and checked with check's own code; the two answers must be the same —
// admitted unchanged, fixed with the same patch, or refused naming the same
// rules (a root, named or unknown image needs a person on both).

import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PolicyStore } from '../../src/bundle/active.js';
import { parseBundle } from '../../src/bundle/bundle.js';
import type { JsonObject, PatchOperation } from '../../src/contract/index.js';
import { imageFactsSource } from '../../src/images/config.js';
import { silentLogger } from '../../src/observe/log.js';
import { applyPatch } from '../../src/patch/apply.js';
import { ACTORS } from '../../src/policytest/cases.js';
import { checkManifest, type DocResult } from '../../src/policytest/check.js';
import { PARSE_OPTIONS } from '../../src/policytest/edit-yaml.js';
import { caseUid, pluralOf } from '../../src/policytest/requests.js';
import { serveTestdataImages, type TestdataImages } from '../../src/testkit/check-images.js';
import { buildBundle } from '../../src/testkit/opa-bundle.js';
import { craneBinary, type Registry, startRegistry } from '../../src/testkit/registry.js';
import { type Gateway, startGateway } from '../gateway.js';

const crane = craneBinary();
if (crane.path === null) console.warn(`skipping the webhook/check agreement test: ${crane.why}`);

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.resolve(here, '../../src/policytest/testdata/check');

interface Answer {
  allowed: boolean;
  patch: PatchOperation[];
  message: string;
}

function post(gateway: Gateway, ca: Buffer, pathname: string, review: unknown): Promise<Answer> {
  const body = JSON.stringify(review);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(pathname, gateway.url),
      { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const response = JSON.parse(Buffer.concat(chunks).toString()).response as { allowed: boolean; patch?: string; status?: { message?: string } };
          resolve({
            allowed: response.allowed,
            patch: response.patch ? (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as PatchOperation[]) : [],
            message: response.status?.message ?? '',
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The AdmissionReview the API server sends for an agent's CREATE of `object`. */
function review(object: JsonObject, id: string): unknown {
  const [group, version] = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/') : ['', String(object.apiVersion)];
  const kind = String(object.kind);
  const meta = (object.metadata ?? {}) as JsonObject;
  const namespace = kind === 'Namespace' ? undefined : String(meta.namespace ?? 'default');
  const gvk = { group: group!, version: version!, kind };
  const gvr = { group: group!, version: version!, resource: pluralOf(kind) };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: caseUid(id),
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: meta.name,
      ...(namespace ? { namespace } : {}),
      operation: 'CREATE',
      userInfo: { username: ACTORS.agent.username, groups: ACTORS.agent.groups },
      object: namespace ? { ...object, metadata: { ...meta, namespace } } : object,
      oldObject: null,
      dryRun: true,
      options: null,
    },
  };
}

/** What the API server ends up with: mutate, then validate on the patched object. */
async function webhook(gateway: Gateway, ca: Buffer, object: JsonObject, id: string): Promise<{ allowed: boolean; patch: PatchOperation[]; message: string }> {
  const mutated = await post(gateway, ca, '/mutate', review(object, id));
  if (!mutated.allowed) return mutated;
  const patched = mutated.patch.length > 0 ? (applyPatch(object, mutated.patch) as { ok: true; value: JsonObject }).value : object;
  const validated = await post(gateway, ca, '/validate', review(patched, `${id}#validate`));
  return { allowed: validated.allowed, patch: mutated.patch, message: validated.message };
}

function files(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : [path.join(dir, n)]))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
}

describe.skipIf(crane.path === null)('the webhook and belay check agree on every object', () => {
  let registry: Registry;
  let images: TestdataImages;
  let gateway: Gateway;
  let ca: Buffer;
  let bundlePath: string;
  const config = { insecureRegistries: [], dockerConfig: undefined, pullSecrets: false, platform: 'linux/amd64', timeoutMs: 20_000 };

  beforeAll(async () => {
    registry = await startRegistry(crane.path!);
    images = serveTestdataImages(crane.path!, registry.host);
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-images-http-'));
    bundlePath = path.join(dir, 'bundle.tar.gz');
    writeFileSync(bundlePath, buildBundle(path.resolve(here, '../../policies'), { entrypoints: ['belay/admission/decision'] }));
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      bundle: { file: bundlePath },
      tlsDir: path.join(dir, 'tls'),
      approvals: { stateDir: path.join(dir, 'state') },
      log: silentLogger,
      images: { ...config, registries: [registry.host] },
    });
    ca = readFileSync(gateway.caFile);
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await registry?.stop();
  });

  it('admitted unchanged, fixed with the same patch, or refused naming the same rules', async () => {
    // The same bundle, loaded the way belay check loads it.
    const policy = await new PolicyStore().activate(await parseBundle(readFileSync(bundlePath)), 'check');
    const source = imageFactsSource({ ...config, registries: [registry.host] });
    const seen: Record<DocResult['status'], number> = { pass: 0, fixed: 0, fixable: 0, deny: 0, defer: 0, human: 0, error: 0 };
    try {
      for (const file of files(testdata)) {
        const text = images.localise(readFileSync(file, 'utf8'));
        const { results } = await checkManifest(file, text, policy, { user: ACTORS.agent, namespace: 'default', images: source });
        // The objects as kubectl reads them: documents in order, empty ones skipped, List items one by one.
        const objects = parseAllDocuments(text, PARSE_OPTIONS)
          .map((d) => d.toJS() as JsonObject | null)
          .flatMap((o) => (o && o.kind === 'List' ? (o.items as JsonObject[]) : o ? [o] : []));
        expect(results.length, file).toBe(objects.length);
        for (const [i, r] of results.entries()) {
          const where = `${path.relative(testdata, file)} ${r.kind} ${r.name}`;
          seen[r.status]++;
          const hook = await webhook(gateway, ca, objects[i]!, `${file}#${i}`);
          if (r.status === 'pass') expect([hook.allowed, hook.patch], where).toEqual([true, []]);
          else if (r.status === 'fixable') {
            expect(hook.allowed, where).toBe(true);
            expect(hook.patch, where).toEqual(r.patch);
          } else {
            expect(hook.allowed, `${where}: check says ${r.status}: ${r.message}`).toBe(false);
            for (const reason of r.reasons) expect(hook.message, where).toContain(reason.rule);
            if (r.status === 'human') expect(hook.message, where).toContain('[rule images.run_as_non_root]');
          }
        }
      }
    } finally {
      await policy.evaluator.close();
    }
    // The suite covers every kind of answer that matters here.
    expect(seen).toMatchObject({ pass: expect.any(Number), fixable: 8, human: 3, error: 0 });
    expect(seen.pass).toBeGreaterThan(0);
  });
});
