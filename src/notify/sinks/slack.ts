// Slack: a Block Kit message, posted to an incoming webhook (the URL is the
// credential) or with chat.postMessage (a bot token and a channel). It says
// what the agent asked, who asked and for whom, why (each reason with its
// rule id), the agent's context, the proposed fix, an UPDATE's change, the
// deadline, the policy revision and digest, earlier requests for the same
// object, and links to the console entry. Every string from the request is
// escaped for mrkdwn, and every block is cut to Slack's limits (header 150
// characters, section text 3000, 10 fields, 50 blocks), so a large request
// never turns into a refused message.

import type { DiffLine } from '../../console/diff.js';
import type { HttpChannel } from '../config.js';
import type { Notification } from '../view.js';
import { failureOf, ok, post } from './http.js';
import { DeliveryError, type Sink } from './sink.js';
import { secret } from './webhook.js';

type Text = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
export type Block =
  | { type: 'header'; text: Text }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: { type: 'button'; text: Text; url: string; style?: 'primary' | 'danger'; action_id: string }[] };

export interface SlackMessage {
  text: string;
  blocks: Block[];
  channel?: string;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
}

const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const DIFF_LINES = 40;

/** The Block Kit message for a notification. */
export function slackMessage(n: Notification): SlackMessage {
  const d = n.data;
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: cut(n.title, HEADER_MAX), emoji: false } }];
  const who = `\`${esc(d.requester.user)}\`${d.requester.onBehalfOf ? ` on behalf of *${esc(d.requester.onBehalfOf)}*` : ''}`;
  const q = d.request as { cluster?: string | null; namespace?: string; operation?: string };
  const where = [q.cluster ? `cluster \`${esc(q.cluster)}\`` : null, q.namespace ? `namespace \`${esc(q.namespace)}\`` : null].filter(Boolean).join(' · ');
  const fields: Text[] = [field('Who', who), field('Where', where || 'cluster-wide'), field('Risk', esc(d.risk || 'unknown'))];
  if (n.event === 'requested' || n.event === 'reminder') fields.push(field('Expires', slackDate(d.approval.requiredBy)));
  fields.push(field('Approvers', d.approverGroups.map((g) => `\`${esc(g)}\``).join(', ') || '—'));
  fields.push(field('Policy', `revision \`${esc(d.policy.revision || '—')}\`${d.policy.digest ? `\ndigest \`${esc(short(d.policy.digest))}\`` : ''}`));
  blocks.push({ type: 'section', fields });

  if (d.decision && (n.event === 'approved' || n.event === 'rejected')) {
    const by = d.decision.by ? `*${esc(d.decision.by)}*` : 'an approver';
    const msg = d.decision.message ? `\n>${esc(d.decision.message).replace(/\n/g, '\n>')}` : '';
    blocks.push(section(`*${n.event === 'approved' ? 'Approved' : 'Rejected'} by* ${by}${d.decision.edited ? ' (with an edit)' : ''}${msg}`));
  }
  if (n.event === 'expired') blocks.push(section(`Nobody decided before ${slackDate(d.approval.requiredBy)}; the agent's next retry asks again.`));

  if (d.reasons.length > 0) {
    const lines = d.reasons.slice(0, 8).map((r) => `• ${esc(r.message)} \`${esc(r.rule)}\`${r.severity ? ` _${esc(r.severity)}_` : ''}`);
    if (d.reasons.length > 8) lines.push(`… and ${d.reasons.length - 8} more`);
    blocks.push(section(`*Why*\n${lines.join('\n')}`));
  }
  const ctx = d.context as { workflow?: string; run?: string; confidence?: number; rationale?: string; prompt?: string; remediationTarget?: string };
  const facts = [
    ctx.workflow ? `workflow \`${esc(ctx.workflow)}\`` : null,
    ctx.run ? `run \`${esc(ctx.run)}\`` : null,
    typeof ctx.confidence === 'number' ? `confidence ${Math.round(ctx.confidence * 100)}%` : null,
    ctx.remediationTarget ? `target \`${esc(ctx.remediationTarget)}\`` : null,
  ].filter(Boolean);
  if (facts.length || ctx.rationale || ctx.prompt) {
    const parts = [`*Agent context*${facts.length ? `\n${facts.join(' · ')}` : ''}`];
    if (ctx.rationale) parts.push(`>${esc(cut(ctx.rationale, 600)).replace(/\n/g, '\n>')}`);
    if (ctx.prompt) parts.push(`*Prompt*\n>${esc(cut(ctx.prompt, 600)).replace(/\n/g, '\n>')}`);
    blocks.push(section(parts.join('\n')));
  }
  const tool = d.tool as { name?: string | null; arguments?: unknown } | null;
  if (tool?.name) blocks.push(section(`*Tool call* \`${esc(tool.name)}\`\n${codeBlock(JSON.stringify(tool.arguments ?? {}, null, 2).split('\n'))}`));
  if (d.change) {
    blocks.push(
      section(`*Change against the live object*\n${d.change.diff ? codeBlock(diffText(d.change.diff)) : `_${esc(d.change.note ?? 'not available')}_`}`),
    );
  }
  if (d.fix) {
    const title = `*Proposed fix* (${d.fix.operations} operation${d.fix.operations === 1 ? '' : 's'}; approve with the fix in the console or \`belay approvals approve --apply-fixes\`)`;
    blocks.push(section(`${title}${d.fix.diff ? `\n${codeBlock(diffText(d.fix.diff))}` : ''}`));
  }
  const history = d.history as { id?: string; phase?: string; decidedBy?: string | null; createdAt?: string | null; outcome?: { result?: string } | null }[];
  if (history.length > 0) {
    const lines = history
      .slice(0, 3)
      .map(
        (h) =>
          `• ${esc(h.phase ?? '')}${h.decidedBy ? ` by ${esc(h.decidedBy)}` : ''}${h.outcome?.result ? `, outcome ${esc(h.outcome.result)}` : ''} — \`${esc(h.id ?? '')}\` ${esc(h.createdAt ?? '')}`,
      );
    blocks.push(section(`*Earlier requests for this object*\n${lines.join('\n')}`));
  }
  if (d.approval.url) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: n.event === 'requested' || n.event === 'reminder' ? 'Review in belay' : 'Open in belay' },
          url: d.approval.url,
          style: 'primary',
          action_id: 'belay-open',
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: cut(
          `ApprovalRequest \`${esc(d.approval.id)}\` · ${n.event === 'requested' || n.event === 'reminder' ? `\`belay approvals approve ${esc(d.approval.id)}\`` : esc(d.approval.phase)}`,
          SECTION_MAX,
        ),
      },
    ],
  });
  return { text: fallbackText(n), blocks: blocks.slice(0, 50), unfurl_links: false, unfurl_media: false };
}

/** The notification's text for clients that show no blocks (and push notifications). */
function fallbackText(n: Notification): string {
  const d = n.data;
  const first = d.reasons[0];
  const parts = [n.title, first ? `${first.message} [rule ${first.rule}]` : null, `requested by ${d.requester.user}`, d.approval.url].filter(Boolean);
  return cut(esc(parts.join(' — ')), SECTION_MAX);
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(text, SECTION_MAX) } };
}

function field(name: string, value: string): Text {
  return { type: 'mrkdwn', text: cut(`*${name}*\n${value}`, FIELD_MAX) };
}

function codeBlock(lines: string[]): string {
  const shown = lines.slice(0, DIFF_LINES).map((l) => l.replace(/```/g, "'''"));
  if (lines.length > DIFF_LINES) shown.push(`… ${lines.length - DIFF_LINES} more lines in the console`);
  // Cut inside the fence, so a long block still closes.
  return `\`\`\`${cut(esc(shown.join('\n')), SECTION_MAX - 200)}\`\`\``;
}

function diffText(lines: readonly DiffLine[]): string[] {
  const mark = { add: '+', remove: '-', context: ' ', hunk: '' } as const;
  return lines.map((l) => `${mark[l.kind]}${l.text}`);
}

/** Slack's date token renders in the reader's time zone; the fallback is the RFC 3339 time. */
function slackDate(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return esc(iso);
  return `<!date^${Math.floor(t / 1000)}^{date_short_pretty} {time}|${esc(iso)}>`;
}

function short(digest: string): string {
  return digest.length > 23 ? `${digest.slice(0, 23)}…` : digest;
}

/** mrkdwn's control characters; everything else from the request is shown as written. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Slack Web API errors that mean the token or channel is wrong (retry after the operator fixes it) or the message is. */
const MISCONFIGURED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'org_login_required',
]);
const PERMANENT = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'too_many_attachments', 'invalid_arguments', 'no_text']);

export function slackSink(c: HttpChannel): Sink {
  const api = c.slackChannel !== undefined;
  return {
    name: c.name,
    type: 'slack',
    async send(n, signal) {
      const message = slackMessage(n);
      // Slack ignores it; a proxy or relay in front of Slack can drop a repeat by it.
      const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Idempotency-Key': n.id };
      if (api) headers.Authorization = `Bearer ${secret(c.token!)}`;
      const answer = await post(secret(c.url), {
        headers,
        body: JSON.stringify(api ? { ...message, channel: c.slackChannel } : message),
        signal,
        caFile: c.caFile,
      });
      if (!ok(answer.status)) throw failureOf(answer);
      if (api) webApiResult(answer.body);
    },
    ...(api
      ? {
          async check(signal: AbortSignal) {
            const url = new URL(secret(c.url));
            url.pathname = url.pathname.replace(/[^/]*$/, 'auth.test');
            try {
              const answer = await post(url.href, { headers: { Authorization: `Bearer ${secret(c.token!)}` }, body: '', signal, caFile: c.caFile });
              if (!ok(answer.status)) return `Slack auth.test: ${failureOf(answer).message}`;
              webApiResult(answer.body);
              return null;
            } catch (err) {
              return `Slack auth.test: ${(err as Error).message}`;
            }
          },
        }
      : {}),
  };
}

/** chat.postMessage answers 200 with {"ok": false, "error": …} when it refuses. */
function webApiResult(body: string): void {
  let r: { ok?: unknown; error?: unknown };
  try {
    r = JSON.parse(body);
  } catch {
    throw new DeliveryError('transient', 'Slack answered something that is not JSON');
  }
  if (r.ok === true) return;
  const error = typeof r.error === 'string' ? r.error : 'unknown_error';
  if (MISCONFIGURED.has(error)) throw new DeliveryError('misconfigured', `Slack: ${error}`);
  if (PERMANENT.has(error)) throw new DeliveryError('permanent', `Slack: ${error}`);
  throw new DeliveryError('transient', `Slack: ${error}`);
}
