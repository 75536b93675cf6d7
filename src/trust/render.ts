// The trust report for people (a table and the data change) and for tools (JSON).

import type { TrustReport } from './report.js';

const COLUMNS = [
  ['AGENT', (r) => r.agent],
  ['WORKFLOW', (r) => (r.claim === 'not-held' ? `${r.workflow} (claim not held)` : r.workflow || '-')],
  [
    'MODE',
    (r) =>
      `${r.mode}${r.modeScope === 'workflow' || r.modeScope === 'agent' ? '' : '*'}${r.trusted ? ' (trusted)' : ''}${r.breaker ? ' → approve (demoted)' : ''}`,
  ],
  ['DECISIONS', (r) => String(r.decisions)],
  ['OBSERVED', (r) => String(r.observedOnly)],
  ['APPROVED', (r) => String(r.approved)],
  ['REJECTED', (r) => String(r.rejected)],
  ['EXPIRED', (r) => String(r.expired)],
  ['DENIED', (r) => String(r.denied)],
  ['SUCCEEDED', (r) => String(r.succeeded)],
  ['FAILED', (r) => String(r.failed)],
  ['UNKNOWN', (r) => String(r.unknown)],
  ['SUCCESS', (r) => (r.successRate === null ? '-' : `${Math.round(r.successRate * 100)}%`)],
  ['READY', (r) => (r.recommendation.action === 'promote' ? `yes → ${r.recommendation.to}` : r.recommendation.action)],
  ['WHY', (r) => r.recommendation.why],
] as const satisfies readonly (readonly [string, (r: TrustReport['rows'][number]) => string])[];

export function renderTable(report: TrustReport): string {
  if (report.rows.length === 0) return 'no agent decisions or approvals in the evidence given\n';
  const cells = [COLUMNS.map(([h]) => h), ...report.rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const lines = cells.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  const out = [...lines, '', '* the global default; a namespace scope may apply to some requests'];
  for (const { trip, acknowledge } of report.breakers) {
    out.push(
      '',
      `Breaker ${trip.id} tripped at ${trip.trippedAt}: ${trip.failures} automated changes of ${trip.key.replace(':', ' ')} failed in a row, so it is demoted to approve.`,
      'Once the cause is fixed, re-promote it with a reviewed change to policies/data.json:',
      JSON.stringify(acknowledge, null, 2),
    );
  }
  if (Object.keys(report.dataChange).length > 0) {
    out.push('', 'To promote the ready ones, merge this into policies/data.json and open a pull request:', JSON.stringify(report.dataChange, null, 2));
  } else {
    out.push(
      '',
      `Nothing is ready to promote (thresholds: ${report.thresholds.minApprovals} approvals without a rejection and ${report.thresholds.minSucceeded} succeeded changes with none failed in ${Math.round(report.thresholds.failureWindowMs / 3_600_000)}h; ${report.thresholds.minObserved} observed requests without a would-be deny).`,
    );
  }
  return `${out.join('\n')}\n`;
}

export function renderJson(report: TrustReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
