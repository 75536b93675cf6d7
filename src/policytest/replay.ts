// `belay replay`: the decisions recorded in a decision log, asked again of a
// candidate bundle, and every request whose outcome would change reported —
// allow→deny, deny→defer, new or different fixes, other rules. The "before"
// is what was recorded, or a baseline bundle evaluated on the same logged
// input (which isolates the policy change from redaction and time).

import type { ActivePolicy } from '../bundle/active.js';
import type { Decision, PatchOperation } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { isAgent } from '../identity/agents.js';
import type { LoggedDecision } from '../observe/decision-log.js';

export interface Outcome {
  /** allow | deny | defer, "skip" when the actor is not an agent to this bundle, "error" when evaluation failed. */
  decision: string;
  rules: string[];
  fixes: PatchOperation[];
  error?: string;
}

export interface ReplayChange {
  id: string;
  time: string;
  face: string;
  actor: string;
  /** "CREATE apps/Deployment team-a/web" */
  request: string;
  recordedRevision: string;
  before: Outcome;
  after: Outcome;
  /** What changed: "allow→deny", "fixes added", "rules +x −y"… */
  changes: string[];
}

export interface ReplayReport {
  candidate: string;
  baseline: string | null;
  total: number;
  replayed: number;
  /** Records without a replayable input (skipped requests, log lines from other tools). */
  skipped: number;
  changes: ReplayChange[];
  /** Counts per transition ("allow→deny": 3). */
  transitions: Record<string, number>;
}

function outcomeOf(d: Decision | null | undefined): Outcome {
  if (!d) return { decision: 'error', rules: [], fixes: [], error: 'no decision recorded' };
  return { decision: d.decision, rules: [...new Set(d.reasons.map((r) => r.rule))].sort(), fixes: d.fixes };
}

async function evaluate(policy: ActivePolicy, entry: LoggedDecision): Promise<Outcome> {
  const input = entry.input!;
  if (
    (input.face === 'admission' || input.face === 'authorization') &&
    !isAgent(policy.agents, { username: input.actor.username, groups: input.actor.groups })
  ) {
    return { decision: 'skip', rules: [], fixes: [] };
  }
  try {
    // The actor's agent flag follows the bundle under test, as the gateway computes it.
    return outcomeOf((await policy.evaluator.evaluate(input.face, { ...input, actor: { ...input.actor, agent: true } })).decision);
  } catch (err) {
    return { decision: 'error', rules: [], fixes: [], error: asBelayError(err).message };
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function compareOutcomes(before: Outcome, after: Outcome): string[] {
  const out: string[] = [];
  if (before.decision !== after.decision) out.push(`${before.decision}→${after.decision}`);
  const bf = canonical(before.fixes);
  const af = canonical(after.fixes);
  if (bf !== af) out.push(before.fixes.length === 0 ? 'fixes added' : after.fixes.length === 0 ? 'fixes removed' : 'fixes changed');
  const added = after.rules.filter((r) => !before.rules.includes(r));
  const removed = before.rules.filter((r) => !after.rules.includes(r));
  if (added.length || removed.length) out.push(`rules ${[...added.map((r) => `+${r}`), ...removed.map((r) => `−${r}`)].join(' ')}`);
  return out;
}

function describeRequest(e: LoggedDecision): string {
  const r = e.request;
  const kind = `${r.group ? `${r.group}/` : ''}${r.kind}`;
  const target = `${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
  const sub = r.subresource ? `/${r.subresource}` : '';
  return `${r.operation} ${kind}${sub} ${target}`.trim();
}

export async function replay(entries: readonly LoggedDecision[], candidate: ActivePolicy, baseline: ActivePolicy | null = null): Promise<ReplayReport> {
  const changes: ReplayChange[] = [];
  const transitions: Record<string, number> = {};
  let replayed = 0;
  for (const entry of entries) {
    if (!entry.input || typeof entry.input !== 'object') continue;
    replayed++;
    const before = baseline ? await evaluate(baseline, entry) : outcomeOf(entry.policy);
    const after = await evaluate(candidate, entry);
    const found = compareOutcomes(before, after);
    if (found.length === 0) continue;
    const key = before.decision === after.decision ? `${before.decision} (${found[0]})` : `${before.decision}→${after.decision}`;
    transitions[key] = (transitions[key] ?? 0) + 1;
    changes.push({
      id: entry.id,
      time: entry.time,
      face: entry.face,
      actor: entry.actor?.username ?? '',
      request: describeRequest(entry),
      recordedRevision: entry.revision,
      before,
      after,
      changes: found,
    });
  }
  return {
    candidate: candidate.revision,
    baseline: baseline?.revision ?? null,
    total: entries.length,
    replayed,
    skipped: entries.length - replayed,
    changes,
    transitions,
  };
}

export function renderReplayText(r: ReplayReport): string {
  const lines = [
    `replayed ${r.replayed} of ${r.total} recorded decisions against revision ${r.candidate || '(none)'} (before: ${r.baseline ? `revision ${r.baseline}` : 'as recorded'})`,
    r.changes.length === 0 ? 'no outcome changes' : `${r.changes.length} changed:`,
  ];
  for (const [t, n] of Object.entries(r.transitions).sort()) lines.push(`  ${String(n).padStart(5)}  ${t}`);
  for (const c of r.changes) {
    lines.push('', `${c.time}  ${c.face}  ${c.request}  by ${c.actor}  [${c.id}]`);
    lines.push(`  ${c.changes.join('; ')}`);
    lines.push(`  before: ${outcomeLine(c.before)}`, `  after:  ${outcomeLine(c.after)}`);
  }
  return `${lines.join('\n')}\n`;
}

function outcomeLine(o: Outcome): string {
  return `${o.decision}${o.rules.length ? ` [${o.rules.join(', ')}]` : ''}${o.fixes.length ? ` fixes ${JSON.stringify(o.fixes)}` : ''}${o.error ? ` (${o.error})` : ''}`;
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A PR comment: the summary, the transitions, and a table of changed requests. */
export function renderReplayMarkdown(r: ReplayReport, { limit = 100 }: { limit?: number } = {}): string {
  const out = [
    `### belay replay: ${r.changes.length === 0 ? 'no outcome changes' : `${r.changes.length} of ${r.replayed} recorded decisions would change`}`,
    '',
    `Candidate revision \`${r.candidate || '(none)'}\`, compared with ${r.baseline ? `revision \`${r.baseline}\`` : 'the decisions as recorded'}; ${r.replayed} replayed, ${r.skipped} without a replayable input.`,
  ];
  if (r.changes.length > 0) {
    out.push('', '| change | requests |', '|---|---:|');
    for (const [t, n] of Object.entries(r.transitions).sort()) out.push(`| ${md(t)} | ${n} |`);
    out.push('', '| time | face | request | actor | before | after | what changed |', '|---|---|---|---|---|---|---|');
    for (const c of r.changes.slice(0, limit)) {
      out.push(
        `| ${c.time} | ${c.face} | \`${md(c.request)}\` | ${md(c.actor)} | ${md(outcomeLine(c.before))} | ${md(outcomeLine(c.after))} | ${md(c.changes.join('; '))} |`,
      );
    }
    if (r.changes.length > limit) out.push('', `…and ${r.changes.length - limit} more (see the full report with \`--format json\`).`);
  }
  return `${out.join('\n')}\n`;
}
