// The approval state machine, fuzzed: any sequence of requests (an agent's
// calls, API requests through mutate and validate), decisions and passing time
// on the local store. Whatever the order, an approval admits at most one
// request, never after its deadline, never once rejected, and every request
// gets an answer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deferred, deployment, toolCallDeferred, withAgents } from '../testkit/approval-requests.js';
import { ApprovalLifecycle } from './lifecycle.js';
import { LocalApprovalStore } from './local-store.js';
import { type ApprovalRequest, phaseOf } from './resource.js';

type Action =
  | { kind: 'call'; content: number }
  | { kind: 'request'; content: number }
  | { kind: 'approve' }
  | { kind: 'reject' }
  | { kind: 'tick'; ms: number };

// Weighted so that approvals get used (and replayed) often, rejected and outlived now and then.
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('call' as const), content: fc.nat(1) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('request' as const), content: fc.nat(1) }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'approve' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'reject' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(1_000, 30_000, 61_000, 10 * 60_000, 16 * 60_000) }), weight: 1 },
);

describe('approval lifecycle, any sequence', () => {
  it('admits at most one request per approval, never after its deadline, never once rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 30 }), async (actions) => {
        const dir = mkdtempSync(path.join(tmpdir(), 'belay-lifecycle-fuzz-'));
        let clock = Date.parse('2026-01-01T00:00:00Z');
        const now = () => new Date(clock);
        try {
          const store = await LocalApprovalStore.open(dir, { now, ...withAgents });
          const gate = new ApprovalLifecycle({ store, namespace: 'belay', now });
          const admitted = new Map<string, number>();
          let n = 0;
          const admit = async (id: string | null) => {
            expect(id).not.toBeNull();
            const r = (await store.list()).find((x) => `${x.metadata.namespace}/${x.metadata.name}` === id) as ApprovalRequest;
            // Decided Approved, by a human, before its deadline.
            expect(r.status?.decidedBy).toBe('alice');
            expect(r.status?.message).not.toBe('no');
            expect(Date.parse(r.status!.consumption!.at)).toBeLessThan(Date.parse(r.spec.requiredBy));
            admitted.set(id!, (admitted.get(id!) ?? 0) + 1);
            expect(admitted.get(id!)).toBe(1);
          };
          for (const a of actions) {
            n++;
            if (a.kind === 'tick') clock += a.ms;
            else if (a.kind === 'approve' || a.kind === 'reject') {
              const pending = (await store.list()).filter((r) => phaseOf(r) === 'Pending' && Date.parse(r.spec.requiredBy) > clock);
              for (const r of pending) {
                await store.decide(r.metadata.namespace, r.metadata.name, a.kind === 'approve' ? { phase: 'Approved' } : { phase: 'Rejected', message: 'no' }, {
                  username: 'alice',
                  groups: ['belay:approvers'],
                });
              }
            } else if (a.kind === 'call') {
              const out = await gate.resolve(toolCallDeferred('same-id-every-time', { resource: `content-${a.content}` }));
              if (out.kind === 'approved') await admit(out.approvalId);
            } else {
              const object = deployment(a.content + 1);
              const m = await gate.resolve(deferred(`m-${n}`, object, { stage: 'mutate' }));
              if (m.kind !== 'approved') continue;
              const v = await gate.resolve(deferred(`v-${n}`, object, { stage: 'validate' }));
              expect(v.approvalId).toBe(m.approvalId);
              if (v.kind === 'approved') await admit(v.approvalId);
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
