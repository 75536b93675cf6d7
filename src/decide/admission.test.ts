import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalGate, DeferredRequest, GateOutcome } from '../approvals/gate.js';
import { PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import type { AdmissionRequest } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import type { Evaluator } from '../policy/evaluator.js';
import { type EvaluatorPool, workerPoolEvaluator } from '../policy/pool.js';
import { deploymentRequest, TEST_HUMAN } from '../testkit/admission.js';
import { buildBundle, TEST_POLICY_DIR } from '../testkit/opa-bundle.js';
import { type AdmissionDeps, decideAdmission } from './admission.js';

const HUMAN = TEST_HUMAN;
const request = (labels: Record<string, string>, over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  ...deploymentRequest(labels),
  uid: 'uid-1',
  ...over,
});

class RecordingGate implements ApprovalGate {
  calls: DeferredRequest[] = [];
  constructor(private answer: GateOutcome) {}
  async resolve(r: DeferredRequest): Promise<GateOutcome> {
    this.calls.push(r);
    return this.answer;
  }
}

let store: PolicyStore;
beforeAll(async () => {
  store = new PolicyStore();
  await store.activate(await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'rev-7' })), 'test');
});

function deps(approvals: ApprovalGate = new RecordingGate({ kind: 'pending', approvalId: 'team-a/belay-1', message: 'Ask an approver.' })): AdmissionDeps {
  return { policy: () => store.current(), approvals, namespaces: namesOnly };
}

describe('decideAdmission', () => {
  it('admits non-agents without evaluating', async () => {
    const out = await decideAdmission(request({ 'test/decision': 'deny' }, { userInfo: HUMAN }), 'validate', deps());
    expect(out).toMatchObject({ allowed: true, verdict: 'skip', rules: [] });
    expect(out.input).toBeUndefined();
  });

  it('denies with the first reason and its rule', async () => {
    const out = await decideAdmission(request({ 'test/decision': 'deny' }), 'validate', deps());
    expect(out).toMatchObject({ allowed: false, code: 403, verdict: 'deny', rules: ['test.deny'], revision: 'rev-7' });
    expect(out.message).toBe('Deployment web is labelled deny [rule test.deny]');
    expect(out.auditAnnotations).toEqual({ decision: 'deny', revision: 'rev-7', rules: 'test.deny', mode: 'approve' });
  });

  it('turns defer into a refusal that says how to get approval', async () => {
    const gate = new RecordingGate({ kind: 'pending', approvalId: 'team-a/belay-1', message: 'Run: belay approvals approve team-a/belay-1, then retry.' });
    const out = await decideAdmission(request({ 'test/decision': 'defer' }), 'validate', deps(gate));
    expect(out.allowed).toBe(false);
    expect(out.message).toBe('approval required: this change needs a human [rule test.defer]. Run: belay approvals approve team-a/belay-1, then retry.');
    expect(out.approvalId).toBe('team-a/belay-1');
    expect(gate.calls[0]).toMatchObject({ revision: 'rev-7', requestUid: 'uid-1', dryRun: false });
    expect(gate.calls[0]!.decision.approval).toEqual({ groups: ['belay:approvers'], ttl: '15m', risk: 'high' });
  });

  it('passes dry runs to the gate as dry runs', async () => {
    const gate = new RecordingGate({ kind: 'pending', approvalId: null, message: 'x' });
    await decideAdmission(request({ 'test/decision': 'defer' }, { dryRun: true }), 'validate', deps(gate));
    expect(gate.calls[0]!.dryRun).toBe(true);
  });

  it('admits a deferred request the gate approved, and applies an approver edit on mutate', async () => {
    const gate = new RecordingGate({
      kind: 'approved',
      approvalId: 'team-a/belay-1',
      override: [{ op: 'add', path: '/metadata/labels/edited', value: 'yes' }],
      decidedBy: 'alice',
    });
    const out = await decideAdmission(request({ 'test/decision': 'defer' }), 'mutate', deps(gate));
    expect(out.allowed).toBe(true);
    expect(out.patch).toEqual([{ op: 'add', path: '/metadata/labels/edited', value: 'yes' }]);
    expect(out.auditAnnotations).toMatchObject({ approval: 'team-a/belay-1', approvedBy: 'alice' });
  });

  it('keeps a rejection a refusal with the approver message', async () => {
    const gate = new RecordingGate({ kind: 'rejected', approvalId: 'team-a/belay-1', message: 'rejected by alice: wrong cluster' });
    const out = await decideAdmission(request({ 'test/decision': 'defer' }), 'validate', deps(gate));
    expect(out).toMatchObject({ allowed: false, message: 'rejected by alice: wrong cluster', verdict: 'defer' });
  });

  it('sends a computed patch when the fixed object is allowed', async () => {
    const out = await decideAdmission(request({ 'test/fix': 'yes' }), 'mutate', deps());
    expect(out).toMatchObject({ allowed: true, verdict: 'fix', rules: ['test.fix'] });
    expect(out.patch).toEqual([{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }]);
    expect(out.warnings).toContain('belay fixed: the object needs the fixed label (test.fix)');
  });

  it('yields no patch for an object already fixed (reinvocation)', async () => {
    const out = await decideAdmission(request({ 'test/fix': 'yes', fixed: 'true' }), 'mutate', deps());
    expect(out).toMatchObject({ allowed: true, verdict: 'allow' });
    expect(out.patch).toBeUndefined();
  });

  it('refuses a fix that does not lead to an allowed object', async () => {
    const out = await decideAdmission(request({ 'test/fix': 'useless' }), 'mutate', deps());
    expect(out).toMatchObject({ allowed: false, code: 403, verdict: 'deny' });
    expect(out.message).toMatch(/test\.badfix.*still needs further fixes/);
  });

  it('refuses a fix that breaks the schema', async () => {
    const out = await decideAdmission(request({ 'test/fix': 'schema' }), 'mutate', deps());
    expect(out).toMatchObject({ allowed: false, verdict: 'deny' });
    expect(out.message).toMatch(/not a valid Deployment: .*replicas must be (integer|number)/);
  });

  it('refuses on validate an object that still wants fixes', async () => {
    const out = await decideAdmission(request({ 'test/fix': 'yes' }), 'validate', deps());
    expect(out).toMatchObject({ allowed: false, verdict: 'deny' });
    expect(out.message).toMatch(/mutating webhook would fix this/);
  });

  it('gives DELETE the stored object and CONNECT its options', async () => {
    const old = request({}).object!;
    const del = await decideAdmission(request({}, { operation: 'DELETE', object: null, oldObject: old }), 'validate', deps());
    expect(del.input).toMatchObject({ action: { operation: 'DELETE', verb: 'delete' }, object: null, oldObject: { metadata: { name: 'web' } } });
    expect(del.rules).toEqual(['test.delete']);

    const exec = await decideAdmission(
      request(
        {},
        {
          operation: 'CONNECT',
          kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
          resource: { group: '', version: 'v1', resource: 'pods' },
          subResource: 'exec',
          name: 'web-1',
          object: { kind: 'PodExecOptions', apiVersion: 'v1', command: ['sh'], container: 'web', stdin: true, tty: true },
        },
      ),
      'validate',
      deps(),
    );
    expect(exec).toMatchObject({ allowed: false, rules: ['test.exec'] });
    expect(exec.input).toMatchObject({ action: { operation: 'CONNECT', verb: 'connect', subresource: 'exec' }, resource: { name: 'web-1', resource: 'pods' } });
  });

  it('fails closed for agents when evaluation fails', async () => {
    const broken: Evaluator = {
      revision: 'x',
      builtins: [],
      evaluate: async () => {
        throw new Error('wasm trap: unreachable');
      },
      close: async () => {},
    };
    const active = { ...store.current()!, evaluator: broken };
    const out = await decideAdmission(request({}), 'validate', { ...deps(), policy: () => active });
    expect(out).toMatchObject({ allowed: false, code: 500, verdict: 'error' });
    expect(out.message).toMatch(/fail closed.*wasm trap: unreachable/);
    // …and a non-agent still passes.
    expect((await decideAdmission(request({}, { userInfo: HUMAN }), 'validate', { ...deps(), policy: () => active })).allowed).toBe(true);
  });

  it('refuses agents before any bundle is active', async () => {
    const out = await decideAdmission(request({}), 'validate', { ...deps(), policy: () => undefined });
    expect(out).toMatchObject({ allowed: false, code: 503, verdict: 'error' });
  });

  it('carries agent context from annotations into the input', async () => {
    const req = request({});
    (req.object!.metadata as Record<string, unknown>).annotations = { 'belay.dev/workflow': 'restart-pod-v1', 'belay.dev/confidence': '0.91' };
    const out = await decideAdmission(req, 'validate', deps());
    expect(out.input?.context).toEqual({ workflow: 'restart-pod-v1', confidence: 0.91, source: 'annotation' });
  });
});

describe('decideAdmission with the fix pipeline in the policy workers', () => {
  let pooled: PolicyStore;
  const handOffs = { evaluate: 0, evaluateWithFixes: 0 };
  beforeAll(async () => {
    const prepare = workerPoolEvaluator({ size: 1 });
    pooled = new PolicyStore(async (bundle) => {
      const pool = (await prepare(bundle)) as EvaluatorPool;
      // Counts the hand-offs to the workers.
      return new Proxy(pool, {
        get(target, key) {
          const value = Reflect.get(target, key, target) as unknown;
          if (typeof value !== 'function') return value;
          if (key === 'evaluate') {
            return (...args: unknown[]) => {
              // One evaluate; a hand-off that also runs the fix pipeline is counted apart.
              handOffs[(args[2] as { fix?: boolean } | undefined)?.fix ? 'evaluateWithFixes' : 'evaluate']++;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return (value as (...a: unknown[]) => unknown).bind(target);
        },
      });
    });
    await pooled.activate(await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'rev-7' })), 'test');
  });
  afterAll(async () => {
    await pooled.close();
  });

  const cases: [string, Record<string, string>][] = [
    ['a fix that leads to an allowed object', { 'test/fix': 'yes' }],
    ['an object already fixed', { 'test/fix': 'yes', fixed: 'true' }],
    ['a fix that does not lead to an allowed object', { 'test/fix': 'useless' }],
    ['a fix that breaks the schema', { 'test/fix': 'schema' }],
    ['a denial', { 'test/decision': 'deny' }],
    ['a plain allow', {}],
  ];
  it.each(cases)('answers %s on mutate exactly as the pipeline on the event loop does, in one hand-off', async (_what, labels) => {
    const inline = await decideAdmission(request(labels), 'mutate', deps());
    const before = { ...handOffs };
    const out = await decideAdmission(request(labels), 'mutate', { ...deps(), policy: () => pooled.current() });
    expect(out).toEqual(inline);
    expect(handOffs).toEqual({ evaluate: before.evaluate, evaluateWithFixes: before.evaluateWithFixes + 1 });
  });

  it('asks the workers for no fixes on validate', async () => {
    const before = { ...handOffs };
    const out = await decideAdmission(request({ 'test/fix': 'yes' }), 'validate', { ...deps(), policy: () => pooled.current() });
    expect(out).toEqual(await decideAdmission(request({ 'test/fix': 'yes' }), 'validate', deps()));
    expect(handOffs).toEqual({ evaluate: before.evaluate + 1, evaluateWithFixes: before.evaluateWithFixes });
  });
});
