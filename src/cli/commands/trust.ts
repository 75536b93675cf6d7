// `belay trust report`: per agent and workflow, the evidence of the decision
// log, the approval history and the outcomes of watched changes (success
// rates), which are ready to promote on the trust ladder, the data change
// (policies/data.json) that promotes them, and the breakers that demoted a
// scope with the change that acknowledges each.
// Exit status: 0 report printed, 2 usage or load error.

import { existsSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option } from 'commander';
import { KubeApprovalStore } from '../../approvals/kube-store.js';
import { LocalApprovalStore } from '../../approvals/local-store.js';
import type { ApprovalRequest } from '../../approvals/resource.js';
import { DEFAULT_APPROVALS_NAMESPACE } from '../../approvals/resource.js';
import { readBundleFile } from '../../bundle/source.js';
import type { JsonObject } from '../../contract/index.js';
import { BelayError } from '../../errors.js';
import { breakerInput, KubeBreakerStore } from '../../outcomes/breaker.js';
import { forEachPage, KubeOutcomeStore } from '../../outcomes/store.js';
import {
  approvalEvidence,
  approvalOutcomeEvidence,
  type BreakerEvidence,
  buildReport,
  type DecisionEvidence,
  type OutcomeEvidence,
  outcomeEvidence,
  outcomeSettingsFrom,
  readDecisionLog,
  renderJson,
  renderTable,
  trustConfigFrom,
} from '../../trust/index.js';
import { parseDuration } from '../../util/duration.js';
import { EXIT, fail, usageExitsTwo } from './shared.js';

interface ReportOptions {
  decisionLog: string[];
  stateDir: string;
  kubeconfig?: string;
  context?: string;
  approvalsNamespace?: string;
  data?: string;
  bundle?: string;
  since?: string;
  minApprovals: number;
  minObserved: number;
  minSucceeded?: number;
  output: 'table' | 'json';
}

export const DEFAULT_DECISION_LOG = '.belay/decisions.log';

export function trustCommand(): Command {
  const trust = new Command('trust').description('the trust ladder: evidence per agent and workflow, and what is ready to promote');
  const report = new Command('report')
    .description(
      'per agent and workflow: decisions, observed-only requests, approvals approved/rejected/expired, and which are ready to promote (as a table and as the data change to make)',
    )
    .option('--decision-log <file...>', `decision log(s), JSON lines (default ${DEFAULT_DECISION_LOG} when present)`, [])
    .option('--state-dir <dir>', 'local approval store of a gateway run without a cluster', '.belay/state')
    .option('--kubeconfig <file>', 'read the approval history and outcomes from this cluster instead of the local store', process.env.BELAY_KUBECONFIG)
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--approvals-namespace <ns>', 'only approvals in this namespace (cluster; default all)')
    .option('--data <file>', 'the trust settings: a data.json (default policies/data.json when present)')
    .option('--bundle <file>', 'the trust settings: a compiled bundle')
    .option('--since <duration>', 'only evidence from this long ago on (e.g. 720h)')
    .addOption(new Option('--min-approvals <n>', 'approvals without a rejection before approve → automate').argParser(count('--min-approvals')).default(5))
    .addOption(
      new Option('--min-observed <n>', 'observed requests without a would-be deny before observe → trusted').argParser(count('--min-observed')).default(20),
    )
    .addOption(
      new Option(
        '--min-succeeded <n>',
        'succeeded outcomes before approve → automate (default: outcomes.graduation.minSucceeded in the trust settings, else 5)',
      ).argParser(count('--min-succeeded')),
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async function reportAction(this: Command) {
      try {
        const opts = this.opts<ReportOptions>();
        const now = new Date();
        const since = opts.since ? new Date(now.getTime() - parseDuration(opts.since)) : undefined;
        const notes: string[] = [];

        const logs = opts.decisionLog.length > 0 ? opts.decisionLog : existsSync(DEFAULT_DECISION_LOG) ? [DEFAULT_DECISION_LOG] : [];
        if (logs.length === 0) notes.push(`no decision log given (--decision-log) and none at ${DEFAULT_DECISION_LOG}: the report has approvals only`);
        const decisions: DecisionEvidence[] = [];
        const outcomes: OutcomeEvidence[] = [];
        const breakers: BreakerEvidence[] = [];
        for (const file of logs) {
          if (!existsSync(file)) throw new BelayError('bad_request', `decision log ${file} does not exist`);
          const read = await readDecisionLog(file, since);
          decisions.push(...read.decisions);
          outcomes.push(...read.outcomes);
          breakers.push(...read.breakers);
          if (read.skipped > 0) notes.push(`${file}: skipped ${read.skipped} line${read.skipped > 1 ? 's' : ''} that were not decision records`);
        }

        const approvals = (await approvalHistory(opts, notes)).filter(
          (r) => !since || !r.metadata.creationTimestamp || Date.parse(r.metadata.creationTimestamp) >= since.getTime(),
        );
        const data = await trustData(opts, notes);
        const cluster = await clusterOutcomes(opts, since, notes);
        outcomes.push(...cluster.outcomes, ...approvals.map(approvalOutcomeEvidence).filter((o): o is OutcomeEvidence => o !== null));
        breakers.push(...cluster.breakers);
        const settings = outcomeSettingsFrom(data);
        const result = buildReport(
          decisions,
          approvals.map((a) => approvalEvidence(a, now)),
          trustConfigFrom(data),
          {
            minApprovals: opts.minApprovals,
            minObserved: opts.minObserved,
            minSucceeded: opts.minSucceeded ?? settings.minSucceeded,
            failureWindowMs: settings.failureWindowMs,
          },
          { outcomes, breakers, acknowledged: settings.acknowledged, now },
        );
        process.stdout.write(opts.output === 'json' ? renderJson(result) : renderTable(result));
        for (const n of notes) process.stderr.write(`belay trust report: ${n}\n`);
        process.exitCode = EXIT.ok;
      } catch (err) {
        fail('trust report', err);
      }
    });
  trust.addCommand(usageExitsTwo(report));
  return usageExitsTwo(trust);
}

/** The cluster the options name, at their --context. */
function kubeConfigOf(file: string, context: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  if (context) {
    if (!kc.getContextObject(context)) throw new BelayError('bad_request', `kubeconfig ${file} has no context ${context}`);
    kc.setCurrentContext(context);
  }
  return kc;
}

async function approvalHistory(opts: ReportOptions, notes: string[]): Promise<ApprovalRequest[]> {
  if (opts.kubeconfig) return new KubeApprovalStore(kubeConfigOf(opts.kubeconfig, opts.context)).list(opts.approvalsNamespace);
  if (!existsSync(opts.stateDir)) {
    notes.push(`no approval store at ${opts.stateDir} (--state-dir, or --kubeconfig for a cluster): the report has decisions only`);
    return [];
  }
  return (await LocalApprovalStore.open(opts.stateDir)).list(opts.approvalsNamespace);
}

/** Outcome records and the breakers' state in the cluster (none without --kubeconfig). */
async function clusterOutcomes(
  opts: ReportOptions,
  since: Date | undefined,
  notes: string[],
): Promise<{ outcomes: OutcomeEvidence[]; breakers: BreakerEvidence[] }> {
  if (!opts.kubeconfig) return { outcomes: [], breakers: [] };
  const kc = kubeConfigOf(opts.kubeconfig, opts.context);
  const outcomes: OutcomeEvidence[] = [];
  const store = new KubeOutcomeStore(kc);
  try {
    await forEachPage(store, 'finished', (items) => {
      for (const r of items) {
        const e = outcomeEvidence(r);
        if (!since || !e.finishedAt || Date.parse(e.finishedAt) >= since.getTime()) outcomes.push(e);
      }
    });
  } catch (err) {
    notes.push(`could not read Outcome records: ${(err as Error).message}`);
  }
  const breakers: BreakerEvidence[] = [];
  try {
    const { state } = await new KubeBreakerStore(kc, opts.approvalsNamespace ?? DEFAULT_APPROVALS_NAMESPACE).read();
    for (const [key, trip] of Object.entries(breakerInput(state).breakers))
      breakers.push({ id: trip.id, key, failures: trip.failures, trippedAt: trip.trippedAt });
  } catch (err) {
    notes.push(`could not read the trust breakers: ${(err as Error).message}`);
  }
  return { outcomes, breakers };
}

async function trustData(opts: ReportOptions, notes: string[]): Promise<JsonObject> {
  if (opts.bundle) return (await readBundleFile(opts.bundle)).data;
  const file = opts.data ?? (existsSync('policies/data.json') ? 'policies/data.json' : undefined);
  if (!file) {
    notes.push('no trust settings (--data or --bundle): modes shown are the default');
    return {};
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  } catch (err) {
    throw new BelayError('bad_request', `cannot read trust settings ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function count(flag: string): (v: string) => number {
  return function parse(v) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
    return n;
  };
}
