// data.inventory reaches every policy worker: the default bundle's referential
// template (unique Ingress host, policies/gatekeeper/) sees an Ingress read
// from inventory files, through a worker pool, and a bound leaves objects out.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import { admissionInput } from '../input/admission.js';
import { workerPoolEvaluator } from '../policy/pool.js';
import { agentCreate } from '../testkit/admission.js';
import { startInventorySync } from './sync.js';

const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'belay-inventory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ingress = (name: string, namespace: string, host: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace, managedFields: [{ manager: 'kubectl' }] },
  spec: { rules: [{ host }] },
});

function createIngress(active: NonNullable<ReturnType<PolicyStore['current']>>, host: string) {
  return admissionInput(agentCreate(ingress('web', 'gk-shop', host), 'ingresses'), active.agents, { name: 'gk-shop', labels: {} });
}

const quiet = { info: () => {}, warn: () => {} };

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Gatekeeper inventory', () => {
  it('reaches the workers: a referential template sees objects read from files', async () => {
    const file = path.join(work, 'inventory.yaml');
    writeFileSync(
      file,
      `${JSON.stringify(ingress('storefront', 'gk-marketing', 'shop.example.com'))}\n---\n${JSON.stringify(ingress('blog', 'gk-blog', 'blog.example.com'))}\n`,
    );
    const store = new PolicyStore(workerPoolEvaluator({ size: 2, timeoutMs: 20_000 }));
    const active = await store.activate(await parseBundle(readFileSync(path.join(root, '.build/bundle.tar.gz'))), 'test');
    try {
      const before = await active.evaluator.evaluate('admission', createIngress(active, 'shop.example.com'));
      expect(before.decision.reasons.map((r) => r.rule)).not.toContain('gatekeeper.BelayUniqueIngressHost/gk-unique-host');
      const sync = startInventorySync({ store, files: file, maxBytes: 1 << 20, debounceMs: 10, log: quiet });
      await sync.ready;
      expect(sync.inventory.stats().objects).toBe(2);
      // Every worker gets it: evaluate several times, so both workers answer.
      await until(async () => {
        const answers = await Promise.all([1, 2, 3, 4].map(() => active.evaluator.evaluate('admission', createIngress(active, 'shop.example.com'))));
        return answers.every((a) => a.decision.reasons.some((r) => r.rule === 'gatekeeper.BelayUniqueIngressHost/gk-unique-host'));
      });
      const after = await active.evaluator.evaluate('admission', createIngress(active, 'shop.example.com'));
      expect(after.decision.decision).toBe('deny');
      expect(after.decision.reasons[0]).toMatchObject({
        rule: 'gatekeeper.BelayUniqueIngressHost/gk-unique-host',
        message: 'ingress host "shop.example.com" is already used by Ingress gk-marketing/storefront',
      });
      const other = await active.evaluator.evaluate('admission', createIngress(active, 'new.example.com'));
      expect(other.decision.reasons.map((r) => r.rule)).not.toContain('gatekeeper.BelayUniqueIngressHost/gk-unique-host');
      sync.close();
    } finally {
      await store.close();
    }
  }, 120_000);

  it('leaves objects past its bound out, and says so', async () => {
    const file = path.join(work, 'big.yaml');
    writeFileSync(file, [1, 2, 3].map((i) => JSON.stringify(ingress(`i${i}`, 'gk-x', `h${i}.example.com`))).join('\n---\n'));
    const warnings: string[] = [];
    const store = new PolicyStore(workerPoolEvaluator({ size: 1, timeoutMs: 20_000 }));
    await store.activate(await parseBundle(readFileSync(path.join(root, '.build/bundle.tar.gz'))), 'test');
    try {
      const sync = startInventorySync({ store, files: file, maxBytes: 300, debounceMs: 10, log: { info: () => {}, warn: (_o, m) => warnings.push(m) } });
      await sync.ready;
      expect(sync.inventory.stats().objects).toBeLessThan(3);
      expect(sync.inventory.stats().dropped).toBeGreaterThan(0);
      // managedFields never count against the bound.
      expect(JSON.stringify(sync.inventory.document())).not.toContain('managedFields');
      await until(async () => warnings.some((w) => w.includes('inventory is full')));
      sync.close();
    } finally {
      await store.close();
    }
  }, 60_000);
});
