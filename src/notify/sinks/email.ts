// Email over SMTP with nodemailer: a plain-text and an HTML part saying what
// the chat messages say, with the event's id as the Message-ID (so a mail
// system, or a human, can tell a repeat). Credentials are read from their
// files for each message; the start-up check logs in (transporter.verify)
// so bad credentials show in /readyz before the first request needs them.
// Every string from the request goes into the HTML escaped.

import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { DiffLine } from '../../console/diff.js';
import { type EmailChannel, readSecret } from '../config.js';
import type { Notification } from '../view.js';
import { DeliveryError, type Sink } from './sink.js';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

const DIFF_LINES = 60;

export function emailMessage(n: Notification): EmailMessage {
  const d = n.data;
  const q = d.request as { cluster?: string | null; namespace?: string };
  const facts: [string, string][] = [
    ['Who', `${d.requester.user}${d.requester.onBehalfOf ? ` on behalf of ${d.requester.onBehalfOf}` : ''}`],
    ['Where', [q.cluster ? `cluster ${q.cluster}` : null, q.namespace ? `namespace ${q.namespace}` : null].filter(Boolean).join(', ') || 'cluster-wide'],
    ['Risk', d.risk || 'unknown'],
    ...(n.event === 'requested' || n.event === 'reminder' ? [['Expires', d.approval.requiredBy] as [string, string]] : []),
    ['Approvers', d.approverGroups.join(', ') || '-'],
    ['Policy', `revision ${d.policy.revision || '-'}${d.policy.digest ? `, digest ${d.policy.digest}` : ''}`],
    ...(d.decision?.by ? [['Decided by', `${d.decision.by}${d.decision.message ? `: ${d.decision.message}` : ''}`] as [string, string]] : []),
    ['ApprovalRequest', d.approval.id],
  ];
  const ctx = d.context as { workflow?: string; run?: string; confidence?: number; rationale?: string; prompt?: string };
  const context: [string, string][] = [
    ['Workflow', ctx.workflow ?? ''],
    ['Run', ctx.run ?? ''],
    ['Confidence', typeof ctx.confidence === 'number' ? `${Math.round(ctx.confidence * 100)}%` : ''],
    ['Rationale', ctx.rationale ?? ''],
    ['Prompt', ctx.prompt ?? ''],
  ].filter(([, v]) => v !== '') as [string, string][];
  const diffs: [string, readonly DiffLine[]][] = [];
  if (d.change?.diff) diffs.push(['Change against the live object', d.change.diff]);
  if (d.fix?.diff) diffs.push([`Proposed fix (${d.fix.operations} operations)`, d.fix.diff]);

  const text = [
    n.title,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    ...(d.reasons.length ? ['Why:', ...d.reasons.map((r) => `  - ${r.message} [rule ${r.rule}]`), ''] : []),
    ...(context.length ? ['Agent context:', ...context.map(([k, v]) => `  ${k}: ${v}`), ''] : []),
    ...diffs.flatMap(([title, lines]) => [`${title}:`, ...diffLines(lines).map((l) => `  ${l}`), '']),
    ...(d.approval.url ? [`Review it: ${d.approval.url}`] : []),
    ...(n.event === 'requested' || n.event === 'reminder' ? [`Or run: belay approvals approve ${d.approval.id}`] : []),
    '',
  ].join('\n');

  const rows = (list: [string, string][]) => list.map(([k, v]) => `<tr><th align="left">${h(k)}</th><td>${h(v)}</td></tr>`).join('');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${h(n.title)}</h2>`,
    `<table cellpadding="4">${rows(facts)}</table>`,
    d.reasons.length ? `<h3>Why</h3><ul>${d.reasons.map((r) => `<li>${h(r.message)} <code>${h(r.rule)}</code></li>`).join('')}</ul>` : '',
    context.length ? `<h3>Agent context</h3><table cellpadding="4">${rows(context)}</table>` : '',
    ...diffs.map(([title, lines]) => `<h3>${h(title)}</h3><pre>${h(diffLines(lines).join('\n'))}</pre>`),
    d.approval.url ? `<p><a href="${h(d.approval.url)}">Review it in belay</a></p>` : '',
    '</body></html>',
  ].join('');
  return {
    subject: `[belay] ${n.title}`.replace(/[\r\n]+/g, ' ').slice(0, 250),
    text,
    html,
    messageId: `<${n.id.replace(/[^A-Za-z0-9._-]/g, '.')}@belay.dev>`,
    headers: { 'X-Belay-Event': n.event, 'X-Belay-Approval': d.approval.id, 'X-Belay-Event-Id': n.id },
  };
}

function diffLines(lines: readonly DiffLine[]): string[] {
  const mark = { add: '+', remove: '-', context: ' ', hunk: '' } as const;
  const out = lines.slice(0, DIFF_LINES).map((l) => `${mark[l.kind]}${l.text}`);
  if (lines.length > DIFF_LINES) out.push(`… ${lines.length - DIFF_LINES} more lines in the console`);
  return out;
}

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function emailSink(c: EmailChannel): Sink {
  const transport = () => {
    let auth: { user: string; pass: string } | undefined;
    try {
      auth = c.username && c.password ? { user: readSecret(c.username), pass: readSecret(c.password) } : undefined;
    } catch (err) {
      throw new DeliveryError('misconfigured', (err as Error).message);
    }
    return nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      ...(auth ? { auth } : {}),
      ...(c.caFile ? { tls: { ca: readFileSync(c.caFile) } } : {}),
      connectionTimeout: c.timeoutMs,
      greetingTimeout: c.timeoutMs,
      socketTimeout: c.timeoutMs,
    });
  };
  return {
    name: c.name,
    type: 'email',
    async send(n, signal) {
      const m = emailMessage(n);
      const t = transport();
      const abort = () => t.close();
      signal.addEventListener('abort', abort, { once: true });
      try {
        await t.sendMail({ from: c.from, to: [...c.to], subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, headers: m.headers });
      } catch (err) {
        throw signal.aborted ? new DeliveryError('transient', 'timed out') : smtpFailure(err);
      } finally {
        signal.removeEventListener('abort', abort);
        t.close();
      }
    },
    async check(signal) {
      let t: ReturnType<typeof transport>;
      try {
        t = transport();
      } catch (err) {
        return (err as Error).message;
      }
      const abort = () => t.close();
      signal.addEventListener('abort', abort, { once: true });
      try {
        await t.verify();
        return null;
      } catch (err) {
        return `SMTP ${c.host}:${c.port}: ${smtpFailure(err).message}`;
      } finally {
        signal.removeEventListener('abort', abort);
        t.close();
      }
    },
  };
}

/** nodemailer's error as a delivery failure: a refused login or sender is the configuration; 5xx for this message, permanent. */
export function smtpFailure(err: unknown): DeliveryError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const said = (e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 200);
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'ETLS' || e.code === 'EDNS') return new DeliveryError('misconfigured', said);
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') {
    return typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 500
      ? new DeliveryError('transient', said)
      : new DeliveryError('misconfigured', said);
  }
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new DeliveryError('permanent', said);
  return new DeliveryError('transient', said);
}
