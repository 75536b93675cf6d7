import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecisionLog } from '../observe/decision-log.js';
import type { DecisionRecord } from '../observe/decisions.js';
import { type ApprovalEvidence, buildReport, DEFAULT_THRESHOLDS, type DecisionEvidence, type OutcomeEvidence, readDecisionLog, renderTable } from './index.js';

const AGENT = 'system:serviceaccount:agents:remediator';
let t = 0;
const at = () => new Date(Date.UTC(2025, 0, 1, 0, 0, t++)).toISOString();

function decision(
  workflow: string,
  verdict: string,
  d: Partial<Pick<DecisionEvidence, 'decision' | 'wouldBe' | 'mode'>> = {},
  agent = AGENT,
): DecisionEvidence {
  return {
    time: at(),
    face: 'admission',
    agent,
    workflow,
    namespace: 'prod-billing',
    verdict,
    decision: d.decision ?? (verdict === 'defer' ? 'defer' : verdict === 'deny' ? 'deny' : 'allow'),
    wouldBe: d.wouldBe ?? null,
    mode: d.mode ?? 'approve',
    approvalId: null,
  };
}
function approval(workflow: string, phase: string, agent = AGENT): ApprovalEvidence {
  return { id: `belay/belay-${t}`, agent, workflow, namespace: 'prod-billing', phase, created: at() };
}
const times = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
let o = 0;
function outcome(workflow: string, result: string, over: Partial<OutcomeEvidence> = {}, agent = AGENT): OutcomeEvidence {
  return {
    id: `team-a/outcome-${o++}`,
    agent,
    workflow,
    namespace: 'team-a',
    result,
    reason: result === 'Failed' ? 'CrashLoopBackOff' : 'RolloutComplete',
    finishedAt: '2026-12-01T00:00:00Z',
    automated: false,
    remedy: false,
    ...over,
  };
}
const NOW = new Date('2026-12-06T00:00:00Z');

describe('buildReport', () => {
  const trust = {
    global: 'approve',
    workflows: { 'new-wf': 'observe' },
    trusted: { workflows: ['old-trusted'] },
    claimants: { 'new-wf': { serviceAccounts: ['agents/remediator'] }, 'old-trusted': { users: [AGENT] } },
  };

  it('counts each kind of evidence per agent and workflow', () => {
    const report = buildReport(
      [
        decision('restart-pod-v1', 'defer'),
        decision('restart-pod-v1', 'allow'),
        decision('new-wf', 'allow', { wouldBe: 'deny', mode: 'observe' }),
        decision('restart-pod-v1', 'skip'),
      ],
      [approval('restart-pod-v1', 'Consumed'), approval('restart-pod-v1', 'Expired'), approval('restart-pod-v1', 'Pending')],
      trust,
    );
    const rp = report.rows.find((r) => r.workflow === 'restart-pod-v1')!;
    expect(rp).toMatchObject({ mode: 'approve', modeScope: 'global', decisions: 2, deferred: 1, allowed: 1, approved: 1, expired: 1, pending: 1 });
    expect(report.rows.find((r) => r.workflow === 'new-wf')).toMatchObject({ mode: 'observe', modeScope: 'workflow', observedOnly: 1, wouldDeny: 1 });
  });

  it('promotes a workflow approved often, never rejected, whose changes succeeded, to automate, with the data change', () => {
    const report = buildReport(
      times(5, () => decision('crashloop-rollback-v1', 'defer')),
      times(5, () => approval('crashloop-rollback-v1', 'Consumed')),
      trust,
      DEFAULT_THRESHOLDS,
      { outcomes: times(5, () => outcome('crashloop-rollback-v1', 'Succeeded')), now: NOW },
    );
    const row = report.rows[0]!;
    expect(row.recommendation).toEqual({
      action: 'promote',
      to: 'automate',
      why: 'approved 5 times, never rejected; 5 changes succeeded, none failed in 720h',
    });
    // Promoted for the agent that earned it: it is listed as the workflow's claimant in the same change.
    expect(report.dataChange).toEqual({
      belay: {
        config: {
          trust: { workflows: { 'crashloop-rollback-v1': 'automate' }, claimants: { 'crashloop-rollback-v1': { serviceAccounts: ['agents/remediator'] } } },
        },
      },
    });
    expect(renderTable(report)).toMatch(/crashloop-rollback-v1\s+approve\*\s+5\s+0\s+5\s+0\s+0\s+0\s+5\s+0\s+0\s+100%\s+yes → automate/);
  });

  it('does not promote on approvals alone: it needs succeeded outcomes, and none failed in the window', () => {
    const approved = times(6, () => approval('wf-o', 'Consumed'));
    const none = buildReport([], approved, trust, DEFAULT_THRESHOLDS, { now: NOW });
    expect(none.rows[0]!.recommendation).toEqual({ action: 'watch', why: 'approved 6 times, never rejected; 0 of 5 succeeded outcomes needed' });
    const failedRecently = buildReport([], approved, trust, DEFAULT_THRESHOLDS, {
      outcomes: [...times(9, () => outcome('wf-o', 'Succeeded')), outcome('wf-o', 'Failed')],
      now: NOW,
    });
    expect(failedRecently.rows[0]).toMatchObject({ succeeded: 9, failed: 1, recentFailed: 1, successRate: 0.9 });
    expect(failedRecently.rows[0]!.recommendation).toEqual({ action: 'hold', why: '1 change failed within the last 720h: keep a human in the loop' });
    expect(failedRecently.dataChange).toEqual({});
    const failedLongAgo = buildReport([], approved, trust, DEFAULT_THRESHOLDS, {
      outcomes: [...times(5, () => outcome('wf-o', 'Succeeded')), outcome('wf-o', 'Failed', { finishedAt: '2026-01-01T00:00:00Z' })],
      now: NOW,
    });
    expect(failedLongAgo.rows[0]!.recommendation).toMatchObject({ action: 'promote', to: 'automate' });
  });

  it('counts each outcome once, leaves remedies and changes still watched out, and reports the success rate', () => {
    const twice = outcome('wf-r', 'Succeeded');
    const report = buildReport([], [], trust, DEFAULT_THRESHOLDS, {
      outcomes: [twice, twice, outcome('wf-r', 'Failed'), outcome('wf-r', 'Unknown'), outcome('wf-r', 'Watching'), outcome('wf-r', 'Failed', { remedy: true })],
      now: NOW,
    });
    expect(report.rows[0]).toMatchObject({ succeeded: 1, failed: 1, unknown: 1, successRate: 0.5 });
    expect(renderTable(report)).toMatch(/wf-r\s+approve\*\s+0\s+0\s+0\s+0\s+0\s+0\s+1\s+1\s+1\s+50%/);
  });

  it('holds a scope its breaker demoted until policy data acknowledges the trip, and says how', () => {
    const trip = { id: 'workflow:auto-wf@2026-12-05T10:00:00Z', key: 'workflow:auto-wf', failures: 3, trippedAt: '2026-12-05T10:00:00Z' };
    const automated = { workflows: { 'auto-wf': 'automate' }, claimants: { 'auto-wf': { serviceAccounts: ['agents/remediator'] } } };
    const report = buildReport([], [], automated, DEFAULT_THRESHOLDS, {
      outcomes: times(3, () => outcome('auto-wf', 'Failed', { automated: true })),
      breakers: [trip],
      now: NOW,
    });
    expect(report.rows[0]).toMatchObject({
      breaker: trip,
      recommendation: { action: 'hold', why: expect.stringMatching(/^demoted to approve: 3 automated changes failed in a row/) },
    });
    expect(report.breakers).toEqual([{ trip, acknowledge: { belay: { config: { outcomes: { breaker: { acknowledged: [trip.id] } } } } } }]);
    const table = renderTable(report);
    expect(table).toMatch(/automate → approve \(demoted\)/);
    expect(table).toContain('"acknowledged": [');
    const acknowledged = buildReport([], [], automated, DEFAULT_THRESHOLDS, { breakers: [trip], acknowledged: [trip.id], now: NOW });
    expect(acknowledged.rows).toEqual([]);
    expect(acknowledged.breakers).toEqual([]);
  });

  it('holds a workflow with a rejection or a policy deny, and watches one short of the threshold', () => {
    const rejected = buildReport([], [...times(9, () => approval('wf-a', 'Approved')), approval('wf-a', 'Rejected')], trust);
    expect(rejected.rows[0]!.recommendation).toMatchObject({ action: 'hold', why: 'rejected 1 time: keep a human in the loop' });
    expect(rejected.dataChange).toEqual({});
    const denied = buildReport(
      [decision('wf-b', 'deny')],
      times(6, () => approval('wf-b', 'Consumed')),
      trust,
    );
    expect(denied.rows[0]!.recommendation.action).toBe('hold');
    const short = buildReport(
      [],
      times(4, () => approval('wf-c', 'Consumed')),
      trust,
    );
    expect(short.rows[0]!.recommendation).toMatchObject({ action: 'watch', why: 'approved 4 of 5 times needed, never rejected' });
  });

  it('graduates an observed workflow to trusted when nothing would have been denied', () => {
    const clean = buildReport(
      times(20, () => decision('new-wf', 'allow', { wouldBe: 'defer', mode: 'observe' })),
      [],
      trust,
    );
    expect(clean.rows[0]!.recommendation).toMatchObject({ action: 'promote', to: 'trusted' });
    expect(clean.dataChange).toEqual({
      belay: {
        config: { trust: { trusted: { workflows: ['new-wf', 'old-trusted'] }, claimants: { 'new-wf': { serviceAccounts: ['agents/remediator'] } } } },
      },
    });
    const dirty = buildReport(
      [
        ...times(25, () => decision('new-wf', 'allow', { wouldBe: 'defer', mode: 'observe' })),
        decision('new-wf', 'allow', { wouldBe: 'deny', mode: 'observe' }),
      ],
      [],
      trust,
    );
    expect(dirty.rows[0]!.recommendation).toMatchObject({ action: 'hold', why: 'policy would have denied 1 request while observed' });
  });

  it('counts automated passes apart from observed ones, and does not promote what is automated already', () => {
    const report = buildReport([decision('auto-wf', 'allow', { wouldBe: 'defer', mode: 'automate' })], [], {
      workflows: { 'auto-wf': 'automate' },
      claimants: { 'auto-wf': { serviceAccounts: [AGENT] } },
    });
    expect(report.rows[0]).toMatchObject({ automated: 1, observedOnly: 0, recommendation: { action: 'watch' } });
  });

  it('never counts a workflow for an agent that is not listed for it, and never promotes one for it', () => {
    const intruder = 'system:serviceaccount:agents:intruder';
    const config = {
      global: 'approve',
      workflows: { 'crashloop-rollback-v1': 'automate' },
      claimants: { 'crashloop-rollback-v1': { serviceAccounts: ['agents/remediator'] } },
    };
    const report = buildReport(
      [
        ...times(6, () => decision('crashloop-rollback-v1', 'defer', {}, intruder)),
        decision('crashloop-rollback-v1', 'allow', { mode: 'automate', wouldBe: 'defer' }),
      ],
      times(6, () => approval('crashloop-rollback-v1', 'Consumed', intruder)),
      config,
    );
    const impostor = report.rows.find((r) => r.agent === intruder)!;
    expect(impostor).toMatchObject({
      claim: 'not-held',
      mode: 'approve',
      modeScope: 'global',
      trusted: false,
      approved: 6,
      recommendation: { action: 'hold' },
    });
    expect(impostor.recommendation.why).toMatch(/claims workflow "crashloop-rollback-v1" without being listed for it in trust.claimants/);
    expect(report.rows.find((r) => r.agent === AGENT)).toMatchObject({ claim: 'held', mode: 'automate', modeScope: 'workflow' });
    expect(report.dataChange).toEqual({});
    expect(renderTable(report)).toContain('crashloop-rollback-v1 (claim not held)');
    // The policy's own word (a group claim the report cannot see) counts too.
    const byGroup = buildReport([{ ...decision('crashloop-rollback-v1', 'defer', {}, 'bot-by-group'), claimHonored: false }], [], config);
    expect(byGroup.rows[0]!.claim).toBe('not-held');
  });
});

describe('readDecisionLog', () => {
  it('reads decision records, skips torn lines, and filters by time', async () => {
    const record = (time: string, workflow: string): DecisionRecord => ({
      time,
      kind: 'decision',
      face: 'admission',
      id: 'u',
      actor: { username: AGENT, groups: [], agent: true },
      request: { operation: 'UPDATE', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'web', subresource: '', dryRun: false },
      verdict: 'defer',
      rules: ['r'],
      decision: { decision: 'defer', reasons: [], fixes: [], redact: [], warnings: [], approval: null, mode: 'approve', wouldBe: null },
      patch: null,
      approvalId: 'belay/x',
      revision: 'r1',
      latencyMs: 1,
      input: { context: { workflow } } as never,
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-trust-')), 'decisions.jsonl');
    writeFileSync(
      file,
      [JSON.stringify(record('2025-01-01T00:00:00Z', 'old')), JSON.stringify(record('2025-02-01T00:00:00Z', 'new')), '{"torn":', ''].join('\n'),
    );
    const all = await readDecisionLog(file);
    expect(all.skipped).toBe(1);
    expect(all.outcomes).toEqual([]);
    expect(all.decisions.map((d) => d.workflow)).toEqual(['old', 'new']);
    expect(all.decisions[0]).toMatchObject({ agent: AGENT, verdict: 'defer', decision: 'defer', mode: 'approve', approvalId: 'belay/x' });
    const recent = await readDecisionLog(file, new Date('2025-01-15T00:00:00Z'));
    expect(recent.decisions.map((d) => d.workflow)).toEqual(['new']);
  });

  it("reads what the gateway's decision log writes", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-trust-')), 'decisions.log');
    const log = new DecisionLog({ destination: file });
    log.record({
      time: '2025-03-01T00:00:00Z',
      kind: 'decision',
      face: 'toolcall',
      id: 'call-1',
      actor: { username: AGENT, groups: [], agent: true },
      request: { operation: 'DELETE', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'web', subresource: '', dryRun: false },
      verdict: 'allow',
      rules: ['destructive.delete_production'],
      decision: { decision: 'allow', reasons: [], fixes: [], redact: [], warnings: [], approval: null, mode: 'observe', wouldBe: 'defer' },
      patch: null,
      approvalId: null,
      revision: 'r1',
      latencyMs: 1,
      input: {
        face: 'toolcall',
        actor: { username: AGENT, groups: [], extra: {}, agent: true, serviceAccount: null },
        action: { operation: 'DELETE', verb: 'delete', subresource: '', dryRun: false },
        resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'prod-billing', name: 'web' },
        object: null,
        oldObject: null,
        options: null,
        dryRun: false,
        namespace: null,
        context: { workflow: 'cleanup-v1' },
        tool: null,
        content: null,
      },
    });
    await log.close();
    const { decisions, skipped } = await readDecisionLog(file);
    expect(skipped).toBe(0);
    expect(decisions).toEqual([
      expect.objectContaining({ agent: AGENT, workflow: 'cleanup-v1', face: 'toolcall', decision: 'allow', wouldBe: 'defer', mode: 'observe' }),
    ]);
    expect(buildReport(decisions, []).rows[0]).toMatchObject({ observedOnly: 1, wouldDefer: 1 });
  });
});

describe('readDecisionLog: outcomes', () => {
  it('reads outcome lines and breaker trips apart from decisions', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-trust-')), 'decisions.log');
    const log = new DecisionLog({ destination: file });
    const base = {
      face: 'admission' as const,
      actor: { username: AGENT, groups: [], agent: true },
      request: { operation: 'UPDATE', group: 'apps', kind: 'Deployment', namespace: 'team-a', name: 'web', subresource: '', dryRun: false },
      rules: [],
      decision: null,
      patch: null,
      approvalId: null,
      revision: 'r1',
      latencyMs: 0,
      input: null,
    };
    log.record({
      ...base,
      time: '2026-12-01T00:00:00Z',
      kind: 'outcome',
      id: 'uid-1',
      verdict: 'failed',
      outcome: {
        result: 'Failed',
        reason: 'CrashLoopBackOff',
        message: 'm',
        evidence: [],
        record: 'team-a/outcome-1',
        triggers: ['automate'],
        workflow: 'auto-wf',
        trust: { mode: 'automate', scope: 'workflow', subject: 'auto-wf' },
        finishedAt: '2026-12-01T00:00:00Z',
      },
    });
    log.record({
      ...base,
      time: '2026-12-01T00:00:30Z',
      kind: 'approval',
      id: 'team-a/belay-1#approved',
      verdict: 'approved',
      actor: { username: 'alice', groups: [], agent: false },
    });
    log.record({
      ...base,
      time: '2026-12-01T00:01:00Z',
      kind: 'outcome',
      id: 'workflow:auto-wf@2026-12-01T00:01:00Z',
      verdict: 'breaker-tripped',
      outcome: {
        result: 'Demoted',
        reason: 'BreakerTripped',
        message: 'm',
        evidence: [],
        record: '',
        triggers: ['automate'],
        breaker: { id: 'workflow:auto-wf@2026-12-01T00:01:00Z', key: 'workflow:auto-wf', failures: 3, outcomes: [] },
        finishedAt: '2026-12-01T00:01:00Z',
      },
    });
    await log.close();
    const read = await readDecisionLog(file);
    // Approval lines are neither decisions nor unreadable: the approval history comes from the approvals.
    expect(read.skipped).toBe(0);
    expect(read.decisions).toEqual([]);
    expect(read.outcomes).toEqual([
      {
        id: 'team-a/outcome-1',
        agent: AGENT,
        workflow: 'auto-wf',
        namespace: 'team-a',
        result: 'Failed',
        reason: 'CrashLoopBackOff',
        finishedAt: '2026-12-01T00:00:00Z',
        automated: true,
        remedy: false,
      },
    ]);
    expect(read.breakers).toEqual([{ id: 'workflow:auto-wf@2026-12-01T00:01:00Z', key: 'workflow:auto-wf', failures: 3, trippedAt: '2026-12-01T00:01:00Z' }]);
  });
});
