// What image facts add to an admission request, measured: a gateway (the
// real one, in this process, over HTTPS) with the real policies, a crane
// registry on 127.0.0.1, and an agent's Deployment sent to /mutate one at a
// time. Run with `npx tsx src/testkit/image-latency.ts` (make image-latency);
// prints the median and p95 of each case:
//   no lookup   — a Deployment whose fix needs no image fact (runAsUser set)
//   cold        — a numeric non-root image nobody asked about yet (one per request)
//   warm        — the same images again (answered from the cache)
//   cold bearer — a private image behind a Bearer token service, credentials from a docker config
//   silent      — a registry that accepts connections and never answers (the budget), then cached

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../../webhook/gateway.js';
import { silentLogger } from '../observe/log.js';
import { deploymentRequest, reviewOf } from './admission.js';
import { buildBundle } from './opa-bundle.js';
import { craneBinary, pushImages, startAuthFront, startRegistry } from './registry.js';

const N = Number(process.env.N ?? 20);

function deployment(image: string, podSecurityContext: object = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { securityContext: podSecurityContext, containers: [{ name: 'web', image }] } },
    },
  };
}

/** An agent's CREATE of `object`, as the API server sends it (a new uid each time). */
function review(object: object, i: number): string {
  return JSON.stringify(reviewOf({ ...deploymentRequest({}), uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, object, dryRun: true }));
}

async function main(): Promise<void> {
  const crane = craneBinary();
  if (crane.path === null) throw new Error(crane.why);
  const registry = await startRegistry(crane.path);
  const tags = Object.fromEntries(Array.from({ length: N }, (_, i) => [`bench/app:${i}`, '65532']));
  const refs = pushImages(crane.path, registry.host, { ...tags, ...Object.fromEntries(Array.from({ length: N }, (_, i) => [`bench/private:${i}`, '65532'])) });
  const bearer = await startAuthFront({ upstream: registry.host, scheme: 'bearer', users: { robot: 'pull-token' } });
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentHost = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;

  const dir = mkdtempSync(path.join(tmpdir(), 'belay-image-latency-'));
  const bundle = path.join(dir, 'bundle.tar.gz');
  writeFileSync(
    bundle,
    buildBundle(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies'), { entrypoints: ['belay/admission/decision'] }),
  );
  const dockerConfig = path.join(dir, 'config.json');
  writeFileSync(dockerConfig, JSON.stringify({ auths: { [bearer.host]: { auth: Buffer.from('robot:pull-token').toString('base64') } } }));
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundle },
    tlsDir: path.join(dir, 'tls'),
    approvals: { stateDir: path.join(dir, 'state') },
    log: silentLogger,
    images: { registries: [registry.host, bearer.host, silentHost], dockerConfig },
  });
  const ca = readFileSync(gateway.caFile);
  const agent = new https.Agent({ keepAlive: true, ca });

  let uid = 0;
  const mutate = (object: object): Promise<{ ms: number; allowed: boolean; patched: boolean }> =>
    new Promise((resolve, reject) => {
      const body = review(object, uid++);
      const started = performance.now();
      const req = https.request(new URL('/mutate', gateway.url), { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const response = JSON.parse(Buffer.concat(chunks).toString()).response as { allowed: boolean; patch?: string };
          resolve({ ms: performance.now() - started, allowed: response.allowed, patched: !!response.patch });
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  const results: Record<string, number[]> = {};
  const measure = async (name: string, objects: object[], expect: { allowed: boolean; patched?: boolean }) => {
    const times: number[] = [];
    for (const o of objects) {
      const r = await mutate(o);
      if (r.allowed !== expect.allowed || (expect.patched !== undefined && r.patched !== expect.patched)) {
        throw new Error(`${name}: unexpected answer ${JSON.stringify(r)}`);
      }
      times.push(r.ms);
    }
    results[name] = times;
  };

  // Warm the evaluator and the connection first.
  for (let i = 0; i < 5; i++) await mutate(deployment(refs['bench/app:0']!, { runAsUser: 1000 }));

  const apps = Array.from({ length: N }, (_, i) => refs[`bench/app:${i}`]!);
  const privates = Array.from({ length: N }, (_, i) => `${bearer.host}/bench/private:${i}`);
  await measure(
    'no lookup (runAsUser set)',
    apps.map((image) => deployment(image, { runAsUser: 1000 })),
    { allowed: true, patched: true },
  );
  await measure(
    'cold (numeric image)',
    apps.map((image) => deployment(image)),
    { allowed: true, patched: true },
  );
  await measure(
    'warm (same images)',
    apps.map((image) => deployment(image)),
    { allowed: true, patched: true },
  );
  await measure(
    'cold bearer (docker config)',
    privates.map((image) => deployment(image)),
    { allowed: true, patched: true },
  );
  await measure(
    'warm bearer',
    privates.map((image) => deployment(image)),
    { allowed: true, patched: true },
  );
  await measure('silent registry (budget)', [deployment(`${silentHost}/app:1`)], { allowed: false });
  await measure(
    'silent registry, cached unknown',
    Array.from({ length: 5 }, () => deployment(`${silentHost}/app:1`)),
    { allowed: false },
  );

  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const base = q(results['no lookup (runAsUser set)']!, 0.5);
  console.log(`image facts latency, ${N} requests per case, one at a time (ms; "added" is the median minus the no-lookup median)`);
  for (const [name, xs] of Object.entries(results)) {
    console.log(
      `${name.padEnd(34)} median ${q(xs, 0.5).toFixed(1).padStart(7)}  p95 ${q(xs, 0.95).toFixed(1).padStart(7)}  added ${(q(xs, 0.5) - base).toFixed(1).padStart(7)}  (n=${xs.length})`,
    );
  }

  agent.destroy();
  await gateway.close();
  for (const s of sockets) s.destroy();
  silent.close();
  await bearer.stop();
  await registry.stop();
}

await main();
