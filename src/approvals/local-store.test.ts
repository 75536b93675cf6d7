// The local store's durability and concurrency: atomic writes that survive a
// crash mid-write, exclusive create, resourceVersion checks, a lock that
// works across processes, and names that cannot escape the store.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deferred, withAgents } from '../testkit/approval-requests.js';
import { requestKeys } from './fingerprint.js';
import { LocalApprovalStore, RACY_MS } from './local-store.js';
import { newApprovalRequest } from './record.js';
import { type ApprovalRequest, LABELS, phaseOf } from './resource.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ALICE = { username: 'alice', groups: ['belay:approvers'] };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-local-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function draft(uid = 'uid-1', attempt = 1): ApprovalRequest {
  const req = deferred(uid);
  return newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt, now: new Date() });
}

const recordFile = (r: ApprovalRequest) => path.join(dir, 'approvals', r.metadata.namespace, `${r.metadata.name}.json`);
const targetOf = (r: ApprovalRequest) => r.metadata.labels![LABELS.target]!;
/** A clock far enough ahead that every change on disk counts as settled: the index trusts unchanged stats at once. */
const settledClock = () => Date.now() + 10 * RACY_MS;

describe('local approval store', () => {
  it('creates exclusively: the second create of a name returns the first', async () => {
    const store = await LocalApprovalStore.open(dir);
    const a = await store.create(draft());
    const b = await store.create({ ...draft(), spec: { ...draft().spec, risk: 'other' } });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.request.spec.risk).toBe('high');
    expect(a.request.metadata).toMatchObject({ resourceVersion: '1' });
    expect(a.request.status).toEqual({ phase: 'Pending' });
  });

  it('refuses a stale status write (resourceVersion) and bumps the version on each write', async () => {
    const store = await LocalApprovalStore.open(dir);
    const { request } = await store.create(draft());
    const v2 = await store.replaceStatus({ ...request, status: { phase: 'Expired' } });
    expect(v2.metadata.resourceVersion).toBe('2');
    await expect(store.replaceStatus({ ...request, status: { phase: 'Consumed' } })).rejects.toMatchObject({ code: 'conflict' });
    expect(phaseOf((await store.get('prod', request.metadata.name))!)).toBe('Expired');
  });

  it('deletes a record only while its resourceVersion is current, and says when it was already gone', async () => {
    const store = await LocalApprovalStore.open(dir);
    const { request } = await store.create(draft());
    const v2 = await store.replaceStatus({ ...request, status: { phase: 'Expired' } });
    await expect(store.delete('prod', request.metadata.name, { resourceVersion: '1' })).rejects.toMatchObject({ code: 'conflict' });
    expect(existsSync(recordFile(request))).toBe(true);
    expect(await store.delete('prod', request.metadata.name, { resourceVersion: v2.metadata.resourceVersion! })).toBe(true);
    expect(existsSync(recordFile(request))).toBe(false);
    expect(await store.get('prod', request.metadata.name)).toBeUndefined();
    expect(await store.delete('prod', request.metadata.name)).toBe(false);
    // The name is free again: a new request with it starts over.
    expect((await store.create(draft())).created).toBe(true);
  });

  it('ignores a temp file a crashed writer left, and sweeps it once it is old', async () => {
    const store = await LocalApprovalStore.open(dir);
    const { request } = await store.create(draft());
    const file = recordFile(request);
    // A torn write: the writer died after writing half of the new version to its temp file.
    const torn = path.join(path.dirname(file), `.${path.basename(file)}.4242.deadbeef0000.tmp`);
    const next = JSON.stringify({ ...request, status: { phase: 'Approved', decidedBy: 'mallory' } });
    writeFileSync(torn, next.slice(0, next.length / 2));

    const reopened = await LocalApprovalStore.open(dir);
    const all = await reopened.list();
    expect(all).toHaveLength(1);
    expect(phaseOf(all[0]!)).toBe('Pending');
    expect(existsSync(torn)).toBe(true); // young: it could be a live writer's

    const old = (Date.now() - 120_000) / 1000;
    utimesSync(torn, old, old);
    await LocalApprovalStore.open(dir);
    expect(existsSync(torn)).toBe(false);
  });

  it('refuses to guess when a record itself is damaged', async () => {
    const corrupt: string[] = [];
    const store = await LocalApprovalStore.open(dir, { onCorrupt: (f) => corrupt.push(f) });
    const { request } = await store.create(draft());
    writeFileSync(recordFile(request), '{"apiVersion":"belay.dev/v1alpha1","metad');
    await expect(store.get('prod', request.metadata.name)).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/unreadable.*move it aside/),
    });
    expect(await store.list()).toEqual([]);
    expect(corrupt).toEqual([recordFile(request)]);
    // A create of the same name does not overwrite it (and says why it cannot read it).
    await expect(store.create(draft())).rejects.toMatchObject({ code: 'internal' });
  });

  it('keeps every record whole when the writing process is killed mid-write', async () => {
    const store = await LocalApprovalStore.open(dir);
    const { request } = await store.create(draft());
    const script = path.join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { LocalApprovalStore } from ${JSON.stringify(path.join(here, 'local-store.ts'))};
const store = await LocalApprovalStore.open(${JSON.stringify(dir)});
const pad = 'x'.repeat(200_000); // big records make a kill mid-write likely
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  const r = await store.get('prod', ${JSON.stringify(request.metadata.name)});
  await store.replaceStatus({ ...r, status: { phase: 'Pending', message: String(i) + pad } }).catch(() => undefined);
}
`,
    );
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited ${code} before it was ready: ${stderr}`)));
      });
      await new Promise((r) => setTimeout(r, 150 + 100 * round));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      const corrupt: string[] = [];
      const reopened = await LocalApprovalStore.open(dir, { onCorrupt: (f) => corrupt.push(f), lockTimeoutMs: 5_000 });
      const r = (await reopened.get('prod', request.metadata.name))!;
      expect(corrupt).toEqual([]);
      expect(Number(r.metadata.resourceVersion)).toBeGreaterThan(1);
      expect(r.status?.message).toMatch(/^\d+x+$/);
      // The killed writer's lock (if it held one) is broken, and writes go on.
      await reopened.replaceStatus({ ...r, status: { phase: 'Pending', message: `after kill ${round}` } });
    }
  }, 60_000);

  it('serialises writers across stores (processes) on one record', async () => {
    const a = await LocalApprovalStore.open(dir);
    const b = await LocalApprovalStore.open(dir);
    const { request } = await a.create(draft());
    // Each writer reads, then writes with the version it read: exactly one per version wins.
    const attempt = async (store: LocalApprovalStore, i: number) => {
      const current = (await store.get('prod', request.metadata.name))!;
      return store.replaceStatus({ ...current, status: { phase: 'Pending', message: `writer ${i}` } }).then(
        () => 'ok',
        (err: { code?: string }) => err.code,
      );
    };
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(i % 2 ? a : b, i)));
    const final = (await a.get('prod', request.metadata.name))!;
    expect(results.filter((r) => r === 'ok').length).toBe(Number(final.metadata.resourceVersion) - 1);
    expect(results.every((r) => r === 'ok' || r === 'conflict')).toBe(true);
    expect(readdirSync(path.dirname(recordFile(request))).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });

  it('records a human decision under the separation-of-duties rules', async () => {
    const store = await LocalApprovalStore.open(dir, {
      agents: () => ({ serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], usernames: [] }),
    });
    const { request } = await store.create(draft());
    const { namespace, name } = request.metadata;
    await expect(
      store.decide(namespace, name, { phase: 'Approved' }, { username: request.spec.requester.user, groups: ['belay:approvers'] }),
    ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/agent identity/) });
    await expect(store.decide(namespace, name, { phase: 'Approved' }, { username: 'bob', groups: ['developers'] })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/only members of belay:approvers/),
    });
    const approved = await store.decide(namespace, name, { phase: 'Approved', message: 'ok' }, ALICE);
    expect(approved.status).toMatchObject({
      phase: 'Approved',
      decidedBy: 'alice',
      message: 'ok',
      conditions: [{ type: 'Decided', status: 'True', reason: 'Approved' }],
    });
    await expect(store.decide(namespace, name, { phase: 'Rejected' }, { username: 'carol', groups: ['belay:approvers'] })).rejects.toMatchObject({
      message: expect.stringMatching(/already Approved \(decided by alice.*final/),
    });
    const onDisk = JSON.parse(readFileSync(recordFile(request), 'utf8')) as ApprovalRequest;
    expect(onDisk.status?.phase).toBe('Approved');
  });

  it('decides nothing while it cannot tell agents from approvers (no bundle active)', async () => {
    let active = false;
    const store = await LocalApprovalStore.open(dir, { agents: () => (active ? withAgents.agents() : undefined) });
    const { request } = await store.create(draft());
    const { namespace, name } = request.metadata;
    for (const who of [ALICE, { username: 'system:serviceaccount:agents:bot', groups: ['belay:approvers'] }]) {
      await expect(store.decide(namespace, name, { phase: 'Approved' }, who)).rejects.toMatchObject({
        code: 'not_ready',
        message: expect.stringMatching(/no active policy bundle, so it cannot tell agents from approvers/),
      });
    }
    // A store opened without a selector at all (the CLI before it read a bundle) refuses too.
    const bare = await LocalApprovalStore.open(dir);
    await expect(bare.decide(namespace, name, { phase: 'Approved' }, ALICE)).rejects.toMatchObject({ code: 'not_ready' });
    expect(phaseOf((await store.get(namespace, name))!)).toBe('Pending');
    active = true;
    expect((await store.decide(namespace, name, { phase: 'Approved' }, ALICE)).status?.phase).toBe('Approved');
  });

  it('answers lookups from its index, and sees at once what another store on the same directory writes', async () => {
    const a = await LocalApprovalStore.open(dir, { clock: settledClock });
    const b = await LocalApprovalStore.open(dir, { clock: settledClock, ...withAgents });
    const { request } = await b.create(draft());
    const target = targetOf(request);
    expect((await a.listByTarget('prod', target)).map(phaseOf)).toEqual(['Pending']);
    const reads = a.filesRead;
    for (let i = 0; i < 5; i++) expect((await a.listByTarget('prod', target)).map(phaseOf)).toEqual(['Pending']);
    expect(a.filesRead).toBe(reads); // unchanged directory and record: nothing read again

    // Decided by the other store: a renamed record, so the directory changed; only that file is read again.
    await b.decide('prod', request.metadata.name, { phase: 'Approved', message: 'go' }, ALICE);
    const seen = await a.listByTarget('prod', target);
    expect(seen.map(phaseOf)).toEqual(['Approved']);
    expect(seen[0]!.status?.decidedBy).toBe('alice');
    expect(a.filesRead).toBe(reads + 1);

    // A second attempt created, then the first deleted, by the other store.
    const second = await b.create(draft('uid-2', 2));
    expect((await a.listByTarget('prod', target)).map((r) => r.metadata.name).sort()).toEqual([request.metadata.name, second.request.metadata.name].sort());
    await b.delete('prod', request.metadata.name);
    expect((await a.listByTarget('prod', target)).map((r) => r.metadata.name)).toEqual([second.request.metadata.name]);
    expect(await a.listByTarget('prod', 'another-target')).toEqual([]);
    expect((await a.list()).map((r) => r.metadata.name)).toEqual([second.request.metadata.name]);
  });

  it('looks a target up at the same cost whether it holds 10 records or 2,000, while others are being written', async () => {
    const cost = async (others: number) => {
      const root = mkdtempSync(path.join(tmpdir(), 'belay-scale-'));
      const store = await LocalApprovalStore.open(root, { clock: settledClock });
      const mine = (await store.create(draft())).request;
      const target = targetOf(mine);
      for (let i = 0; i < others; i++) {
        const other = draft(`other-${i}`);
        other.metadata.name = `belay-other-${i}`;
        other.metadata.labels = { ...other.metadata.labels, [LABELS.target]: createHash('sha256').update(String(i)).digest('hex').slice(0, 40) };
        await store.create(other);
      }
      const before = store.lookupOps;
      for (let i = 0; i < 10; i++) {
        // Another request is recorded between two lookups: the namespace directory keeps changing.
        const other = draft(`new-${i}`);
        other.metadata.name = `belay-new-${i}`;
        other.metadata.labels = { ...other.metadata.labels, [LABELS.target]: createHash('sha256').update(`new-${i}`).digest('hex').slice(0, 40) };
        await store.create(other);
        expect((await store.listByTarget('prod', target)).map((r) => r.metadata.name)).toEqual([mine.metadata.name]);
      }
      const ops = store.lookupOps - before;
      rmSync(root, { recursive: true, force: true });
      return ops;
    };
    const small = await cost(10);
    const large = await cost(2_000);
    expect(large).toBe(small);
    // A directory listed and one record stat-ed per lookup (it was read once, the first time).
    expect(small).toBeLessThanOrEqual(10 * 2 + 1);
  }, 120_000);

  it("breaks at once a lock left by an earlier process that had this process's pid (a restarted container)", async () => {
    const store = await LocalApprovalStore.open(dir, withAgents);
    const { request } = await store.create(draft());
    const lock = path.join(dir, 'approvals', 'prod', `.${request.metadata.name}.json.lock`);
    mkdirSync(lock);
    // As the earlier process wrote it (pid only, the format before incarnations were recorded too).
    writeFileSync(path.join(lock, 'owner'), `${process.pid}\n`);
    const t = Date.now();
    await store.decide('prod', request.metadata.name, { phase: 'Approved' }, ALICE);
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('indexes a store written before lookups had markers, once, when it opens', async () => {
    const old = await LocalApprovalStore.open(dir);
    const { request } = await old.create(draft());
    rmSync(path.join(dir, 'approvals', 'prod', '.targets'), { recursive: true, force: true });
    rmSync(path.join(dir, 'approvals', '.requesters'), { recursive: true, force: true });
    rmSync(path.join(dir, 'approvals', '.indexed-v1'));
    const reopened = await LocalApprovalStore.open(dir);
    expect((await reopened.listByTarget('prod', targetOf(request))).map((r) => r.metadata.name)).toEqual([request.metadata.name]);
    expect((await reopened.listByRequester(request.metadata.labels![LABELS.requester]!)).map((r) => r.metadata.name)).toEqual([request.metadata.name]);
    // Deleted, it is gone from both.
    await reopened.delete('prod', request.metadata.name);
    expect(await reopened.listByTarget('prod', targetOf(request))).toEqual([]);
    expect(await reopened.listByRequester(request.metadata.labels![LABELS.requester]!)).toEqual([]);
  });

  it('sees a decision another process wrote on its next lookup', async () => {
    const store = await LocalApprovalStore.open(dir, { clock: settledClock });
    const { request } = await store.create(draft());
    const target = targetOf(request);
    expect((await store.listByTarget('prod', target)).map(phaseOf)).toEqual(['Pending']);
    const script = path.join(dir, 'approver.mts');
    writeFileSync(
      script,
      `import { LocalApprovalStore } from ${JSON.stringify(path.join(here, 'local-store.ts'))};
const store = await LocalApprovalStore.open(${JSON.stringify(dir)}, { agents: () => (${JSON.stringify(withAgents.agents())}) });
await store.decide('prod', ${JSON.stringify(request.metadata.name)}, { phase: 'Rejected', message: 'not today' }, ${JSON.stringify(ALICE)});
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [seen] = await store.listByTarget('prod', target);
    expect(seen?.status).toMatchObject({ phase: 'Rejected', decidedBy: 'alice', message: 'not today' });
  }, 30_000);

  it('sees a record edited in place from outside, though the directory did not change', async () => {
    const corrupt: string[] = [];
    const store = await LocalApprovalStore.open(dir, { clock: settledClock, onCorrupt: (f) => corrupt.push(f) });
    const { request } = await store.create(draft());
    const target = targetOf(request);
    const file = recordFile(request);
    expect((await store.listByTarget('prod', target)).map(phaseOf)).toEqual(['Pending']);
    // Same inode, same directory entry: only the file's own stat shows the change.
    writeFileSync(file, JSON.stringify({ ...request, status: { phase: 'Expired', message: 'edited by hand' } }));
    expect((await store.listByTarget('prod', target)).map(phaseOf)).toEqual(['Expired']);
    writeFileSync(file, '{"apiVersion":"belay.dev/v1alpha1","metad');
    expect(await store.listByTarget('prod', target)).toEqual([]);
    expect(corrupt).toEqual([file]);
  });

  it('does not trust an unchanged timestamp read within moments of a change (coarse clocks)', async () => {
    // The real clock: every record was written just now, so a change in the same
    // clock tick would keep its timestamp; each lookup reads the young record again.
    const store = await LocalApprovalStore.open(dir);
    const { request } = await store.create(draft());
    const target = targetOf(request);
    await store.listByTarget('prod', target);
    const reads = store.filesRead;
    await store.listByTarget('prod', target);
    await store.listByTarget('prod', target);
    expect(store.filesRead).toBe(reads + 2);
  });

  it('hands out records that cannot be changed behind the index', async () => {
    const store = await LocalApprovalStore.open(dir, { clock: settledClock });
    const { request } = await store.create(draft());
    const [r] = await store.listByTarget('prod', targetOf(request));
    expect(() => {
      (r!.status as { phase: string }).phase = 'Approved';
    }).toThrow(TypeError);
    expect(phaseOf((await store.listByTarget('prod', targetOf(request)))[0]!)).toBe('Pending');
  });

  it('refuses names and namespaces that would leave the store', async () => {
    const store = await LocalApprovalStore.open(dir);
    await expect(store.get('../etc', 'passwd')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(store.get('prod', '../../x')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(store.list('a/b')).rejects.toMatchObject({ code: 'bad_request' });
  });
});
