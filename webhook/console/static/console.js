// @ts-check
// belay's approvals console: lists ApprovalRequests (pending first), keeps the
// list live with a long poll, shows one request the way the human-in-the-loop
// use cases put it in front of a person, and sends Approve / Reject / Edit.
//
// Every string from a request is put on the page as a text node (nothing is
// ever parsed as HTML), so a hostile name, rationale or message renders as text. The
// bearer token lives in sessionStorage (this tab only) and goes to this
// gateway only, in the Authorization header of each API call.

const TOKEN_KEY = 'belay.console.token';
/** How long the server may hold a list request open before answering "unchanged". */
const LONG_POLL = '25s';

/**
 * @typedef {{rule: string, message: string, severity: string}} Reason
 * @typedef {{kind: 'context' | 'add' | 'remove' | 'hunk', text: string}} DiffLine
 * @typedef {{op: string, path: string, value?: unknown, from?: string}} PatchOp
 * @typedef {{
 *   id: string, namespace: string, name: string, resourceVersion: string | null,
 *   phase: string, face: string, createdAt: string | null, requiredBy: string, summary: string,
 *   action: {operation: string, verb?: string, group: string, version?: string, kind: string, resource: string,
 *            subresource: string, namespace: string, name: string, tool?: string, cluster: string | null},
 *   requester: {user: string, groups: string[], onBehalfOf: string | null, agent: boolean},
 *   reasons: Reason[], risk: string, approverGroups: string[],
 *   context: {workflow?: string, run?: string, confidence?: number, rationale?: string, prompt?: string, remediationTarget?: string, cluster?: string, source?: string},
 *   hasFix: boolean,
 *   decision: {by: string | null, at: string | null, message: string | null, edited: boolean} | null,
 *   consumedAt: string | null,
 *   approvedNote: string,
 *   you: {mayDecide: boolean, why: string | null}
 * }} Summary
 * @typedef {Summary & {
 *   bundleRevision: string, objectDigest: string, object: object | null, objectYaml: string | null,
 *   objectExcerpt: string | null,
 *   tool: {name: string | null, arguments: object | null, target: object | null, argumentsDigest: string | null,
 *          redactions: {pointer: string, kind: string, rule: string, description: string}[]} | null,
 *   fixes: PatchOp[], fixDiff: DiffLine[] | null, fixError: string | null,
 *   override: {patch?: PatchOp[], arguments?: object} | null, overrideDiff: DiffLine[] | null,
 *   consumption: {requestUid: string, objectDigest: string, at: string, confirmedAt?: string} | null,
 *   bundleDigest: string | null,
 *   change: {diff: DiffLine[] | null, note: string | null} | null,
 *   history: HistoryEntry[],
 *   workflowRun: {workflow: string, run: string | null, pending: {id: string, summary: string, requiredBy: string, you: {mayDecide: boolean, why: string | null}}[]} | null
 * }} Detail
 * @typedef {{id: string, createdAt: string | null, phase: string, requester: string, operation: string, decidedBy: string | null,
 *   decidedAt: string | null, message: string | null, outcome: {result: string, message: string | null} | null}} HistoryEntry
 * @typedef {{workflow: string, run: string | null, action: string, decided: number,
 *   results: {id: string, ok: boolean, phase?: string, error?: {code: string, message: string}}[]}} RunDecision
 * @typedef {{version: string, now: string, mode: string, pending: number, items: Summary[]}} List
 * @typedef {{user: {username: string, groups: string[]}, mode: string}} Session
 */

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const state = {
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN_KEY),
  /** @type {Session | null} */
  session: null,
  /** @type {string | undefined} */
  version: undefined,
  /** @type {List | null} */
  list: null,
  /** @type {string | null} */
  selected: null,
  /** @type {Detail | null} */
  detail: null,
  /** Server clock minus browser clock, so countdowns follow the gateway's deadlines. */
  skewMs: 0,
  namespace: '',
  /** Bumped to stop a running poll loop. */
  generation: 0,
  /** @type {AbortController | null} */
  polling: null,
  busy: false,
};

// ---------------------------------------------------------------- DOM helpers

/** @param {string} id */
function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/**
 * Creates an element; children that are strings become text nodes. Only
 * class names, data attributes and a few safe properties are ever set.
 * @param {string} tag
 * @param {{class?: string, data?: Record<string, string>, title?: string, type?: string, for?: string, id?: string, value?: string, rows?: number, placeholder?: string, hidden?: boolean, role?: string, label?: string}} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  if (attrs.class) node.className = attrs.class;
  if (attrs.id) node.id = attrs.id;
  if (attrs.title) node.title = attrs.title;
  if (attrs.hidden) node.hidden = true;
  if (attrs.role) node.setAttribute('role', attrs.role);
  if (attrs.label) node.setAttribute('aria-label', attrs.label);
  if (attrs.for) node.setAttribute('for', attrs.for);
  if (attrs.type) node.setAttribute('type', attrs.type);
  if (attrs.placeholder) node.setAttribute('placeholder', attrs.placeholder);
  if (attrs.rows) node.setAttribute('rows', String(attrs.rows));
  if (attrs.value !== undefined && (node instanceof HTMLTextAreaElement || node instanceof HTMLInputElement || node instanceof HTMLOptionElement))
    node.value = attrs.value;
  for (const [k, v] of Object.entries(attrs.data ?? {})) node.dataset[k] = v;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** @param {HTMLElement} node @param {string | null} text */
function showMessage(node, text) {
  node.textContent = text ?? '';
  node.hidden = !text;
}

// ---------------------------------------------------------------- API

/**
 * @param {string} method
 * @param {string} path relative to /console/api/
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
async function api(method, path, body, signal) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', Authorization: `Bearer ${state.token ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'unreachable', `cannot reach the gateway (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  /** @type {any} */
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = data && typeof data === 'object' ? data.error : undefined;
    throw new ApiError(
      res.status,
      typeof e?.code === 'string' ? e.code : 'error',
      typeof e?.message === 'string' ? e.message : `the gateway answered HTTP ${res.status}`,
    );
  }
  return data;
}

/** @param {string} id "namespace/name" */
function approvalPath(id) {
  return `approvals/${id.split('/').map(encodeURIComponent).join('/')}`;
}

// ---------------------------------------------------------------- time

function serverNow() {
  return Date.now() + state.skewMs;
}

/** @param {number} ms */
function duration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** @param {string | null | undefined} iso */
function ago(iso) {
  const t = Date.parse(iso ?? '');
  if (!Number.isFinite(t)) return '';
  return `${duration(serverNow() - t)} ago`;
}

/** @param {string} deadline @param {string} phase */
function countdownText(deadline, phase) {
  const t = Date.parse(deadline);
  if (!Number.isFinite(t)) return 'no valid deadline';
  const left = t - serverNow();
  if (left <= 0) return phase === 'Pending' || phase === 'Approved' ? 'expired' : `deadline passed ${duration(-left)} ago`;
  return phase === 'Approved' ? `usable for ${duration(left)}` : `expires in ${duration(left)}`;
}

/** @param {string} deadline @param {string} phase */
function countdown(deadline, phase) {
  const t = Date.parse(deadline);
  const urgent = Number.isFinite(t) && t - serverNow() < 2 * 60_000;
  return el(
    'span',
    { class: `countdown${urgent ? ' urgent' : ''}`, data: { deadline, phase }, title: `requiredBy ${deadline}` },
    countdownText(deadline, phase),
  );
}

function tick() {
  for (const node of document.querySelectorAll('.countdown')) {
    if (!(node instanceof HTMLElement)) continue;
    const { deadline, phase } = node.dataset;
    if (!deadline || !phase) continue;
    node.textContent = countdownText(deadline, phase);
    const t = Date.parse(deadline);
    node.classList.toggle('urgent', Number.isFinite(t) && t - serverNow() < 2 * 60_000);
  }
}

// ---------------------------------------------------------------- sign in / out

async function signIn() {
  const session = /** @type {Session} */ (await api('GET', 'session'));
  state.session = session;
  const who = byId('whoami');
  who.textContent = '';
  who.append(
    'signed in as ',
    el('strong', {}, session.user.username),
    session.user.groups.length ? ` (${session.user.groups.join(', ')})` : '',
    ` · ${session.mode === 'cluster' ? 'cluster' : 'local store'}`,
  );
  who.hidden = false;
  byId('signout').hidden = false;
  byId('login').hidden = true;
  byId('app').hidden = false;
  startPolling();
  const fromHash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  if (/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(fromHash)) void select(fromHash);
}

/** @param {string | null} [why] */
function signOut(why) {
  state.token = null;
  state.session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stopPolling();
  state.version = undefined;
  state.list = null;
  state.selected = null;
  state.detail = null;
  byId('items').textContent = '';
  byId('detail').replaceChildren(el('p', { class: 'empty' }, 'Select a request to review it.'));
  byId('app').hidden = true;
  byId('whoami').hidden = true;
  byId('signout').hidden = true;
  byId('login').hidden = false;
  setLive(null);
  showMessage(byId('login-error'), why ?? null);
  const input = byId('token');
  if (input instanceof HTMLInputElement) {
    input.value = '';
    input.focus();
  }
}

// ---------------------------------------------------------------- live list

/** @param {boolean | null} ok @param {string} [why] */
function setLive(ok, why) {
  const live = byId('live');
  live.className = `live${ok === true ? ' ok' : ok === false ? ' down' : ''}`;
  live.textContent = ok === true ? 'live' : ok === false ? `reconnecting… ${why ?? ''}` : '';
}

function stopPolling() {
  state.generation++;
  state.polling?.abort();
  state.polling = null;
}

function startPolling() {
  stopPolling();
  const generation = state.generation;
  const controller = new AbortController();
  state.polling = controller;
  void pollLoop(generation, controller.signal);
}

/** @param {number} generation @param {AbortSignal} signal */
async function pollLoop(generation, signal) {
  let backoff = 1000;
  while (generation === state.generation) {
    const q = new URLSearchParams();
    if (state.namespace) q.set('namespace', state.namespace);
    if (state.version) {
      q.set('since', state.version);
      q.set('wait', LONG_POLL);
    }
    try {
      const list = /** @type {List} */ (await api('GET', `approvals?${q}`, undefined, signal));
      if (generation !== state.generation) return;
      state.skewMs = Date.parse(list.now) - Date.now();
      setLive(true);
      showMessage(byId('list-error'), null);
      backoff = 1000;
      if (list.version !== state.version) {
        state.version = list.version;
        state.list = list;
        renderList(list);
        await refreshSelected(list);
      }
    } catch (err) {
      if (generation !== state.generation || signal.aborted) return;
      const e = err instanceof ApiError ? err : new ApiError(0, 'error', String(err));
      if (e.status === 401) return signOut(`Signed out: ${e.message}`);
      setLive(false, e.message);
      showMessage(byId('list-error'), e.status ? `Cannot list approval requests: ${e.message}` : e.message);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 15_000);
    }
  }
}

/** @param {List} list */
function renderList(list) {
  const settled = list.items.length - list.pending;
  byId('counts').textContent = `${list.pending} pending · ${settled} recent${list.mode === 'cluster' ? '' : ' (local store)'}`;
  const ul = byId('items');
  if (list.items.length === 0) {
    ul.replaceChildren(el('li', { class: 'none' }, 'No approval requests you can see.'));
    return;
  }
  ul.replaceChildren(...list.items.map(listItem));
}

/** @param {Summary} s */
function listItem(s) {
  const first = s.reasons[0];
  const button = el(
    'button',
    { class: 'item', type: 'button', data: { id: s.id } },
    el(
      'span',
      { class: 'row' },
      phaseBadge(s.phase),
      el('span', { class: `risk risk-${safeClass(s.risk)}` }, s.risk),
      s.phase === 'Pending' || s.phase === 'Approved' ? countdown(s.requiredBy, s.phase) : el('span', { class: 'when' }, decidedLine(s)),
    ),
    el('span', { class: 'summary' }, s.summary),
    el('span', { class: 'who' }, s.action.cluster ? el('span', { class: 'cluster' }, s.action.cluster) : null, requesterLine(s)),
    first ? el('span', { class: 'reason' }, el('code', { class: 'rule' }, first.rule), ' ', first.message) : null,
  );
  if (s.id === state.selected) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => void select(s.id));
  return el('li', {}, button);
}

/** @param {Summary} s */
function requesterLine(s) {
  return `${s.requester.user}${s.requester.onBehalfOf ? ` for ${s.requester.onBehalfOf}` : ''}`;
}

/** @param {Summary} s */
function decidedLine(s) {
  if (s.phase === 'Consumed') return `used ${ago(s.consumedAt)}`;
  if (s.phase === 'Expired') return `expired ${ago(s.requiredBy)}`;
  if (s.decision?.by) return `${s.phase.toLowerCase()} by ${s.decision.by} ${ago(s.decision.at)}`;
  return s.phase;
}

/** @param {string} phase */
function phaseBadge(phase) {
  return el('span', { class: `phase phase-${safeClass(phase)}` }, phase);
}

/** A class-name suffix from data: only [a-z0-9-], so a value cannot add classes. @param {string} s */
function safeClass(s) {
  return (
    String(s)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '') || 'unknown'
  );
}

// ---------------------------------------------------------------- one request

/** @param {string} id */
async function select(id) {
  state.selected = id;
  history.replaceState(null, '', `#${id}`);
  for (const b of document.querySelectorAll('.item')) {
    if (b instanceof HTMLElement) b.toggleAttribute('aria-current', b.dataset.id === id);
  }
  try {
    const d = /** @type {Detail} */ (await api('GET', approvalPath(id)));
    if (state.selected !== id) return;
    renderDetail(d, true);
  } catch (err) {
    if (state.selected !== id) return;
    const e = err instanceof ApiError ? err : new ApiError(0, 'error', String(err));
    if (e.status === 401) return signOut(`Signed out: ${e.message}`);
    state.detail = null;
    byId('detail').replaceChildren(el('p', { class: 'error', role: 'alert' }, `Cannot show ${id}: ${e.message}`));
  }
}

/** The list changed: reload the open request if it changed too, keeping what the approver typed. @param {List} list */
async function refreshSelected(list) {
  const id = state.selected;
  if (!id || !state.detail) return;
  const now = list.items.find((i) => i.id === id);
  if (now && now.resourceVersion === state.detail.resourceVersion && now.phase === state.detail.phase) return;
  try {
    const d = /** @type {Detail} */ (await api('GET', approvalPath(id)));
    if (state.selected === id) renderDetail(d, d.phase !== state.detail?.phase);
  } catch {
    // The next list update tries again.
  }
}

/**
 * @param {Detail} d
 * @param {boolean} resetActions false keeps the action form (and what the approver typed)
 */
function renderDetail(d, resetActions) {
  state.detail = d;
  const article = byId('detail');
  const info = infoSection(d);
  const previous = article.querySelector('.actions');
  const actions = !resetActions && previous ? previous : actionsSection(d);
  article.replaceChildren(info, actions);
  tick();
}

/** @param {Detail} d */
function infoSection(d) {
  const q = d.action;
  const ctx = d.context ?? {};
  const where = [q.namespace, q.name].filter(Boolean).join('/');
  return el(
    'div',
    { class: 'info' },
    el(
      'header',
      { class: 'title' },
      el('h2', {}, d.summary),
      el(
        'p',
        { class: 'row' },
        phaseBadge(d.phase),
        el('span', { class: `risk risk-${safeClass(d.risk)}` }, `risk ${d.risk}`),
        d.phase === 'Pending' || d.phase === 'Approved' ? countdown(d.requiredBy, d.phase) : el('span', { class: 'when' }, decidedLine(d)),
        el('code', { class: 'id' }, d.id),
      ),
    ),

    section(
      'What the agent tried',
      table([
        ['Operation', `${q.operation}${q.verb ? ` (${q.verb})` : ''}`],
        ['Kind', `${q.kind || q.resource}${q.group || q.version ? ` · ${[q.group, q.version].filter(Boolean).join('/')}` : ''}`],
        ['Namespace / name', where || '—'],
        q.subresource ? ['Subresource', q.subresource] : null,
        ['Target cluster', q.cluster ?? 'not stated'],
        d.tool?.name ? ['Tool', d.tool.name] : null,
        ['Face', d.face],
      ]),
    ),

    d.change
      ? section(
          'Change against the live object',
          d.change.diff ? diffView(d.change.diff) : el('p', { class: 'muted' }, d.change.note ?? 'The change cannot be shown.'),
        )
      : null,

    section(
      'Who asked',
      table([
        ['Identity', el('span', {}, d.requester.user, d.requester.agent ? el('span', { class: 'tag' }, 'agent') : null)],
        ['On behalf of', d.requester.onBehalfOf ?? 'not stated'],
        ['Groups', d.requester.groups.join(', ') || '—'],
      ]),
    ),

    section(
      'Why policy stopped it',
      el(
        'ul',
        { class: 'reasons' },
        ...d.reasons.map((r) =>
          el(
            'li',
            {},
            el('span', { class: `sev sev-${safeClass(r.severity)}` }, r.severity),
            ' ',
            el('span', { class: 'msg' }, r.message),
            ' ',
            el('code', { class: 'rule' }, r.rule),
          ),
        ),
      ),
    ),

    section(
      'Agent context',
      Object.keys(ctx).length === 0
        ? el('p', { class: 'muted' }, 'The agent gave no context (workflow, confidence, rationale).')
        : table([
            ['Workflow', ctx.workflow ?? '—'],
            ctx.run ? ['Run', ctx.run] : null,
            ['Confidence', typeof ctx.confidence === 'number' ? `${Math.round(ctx.confidence * 100)}%` : '—'],
            ['Rationale', ctx.rationale ? el('span', { class: 'rationale' }, ctx.rationale) : '—'],
            ctx.prompt ? ['Prompt (secrets redacted)', el('span', { class: 'prompt' }, ctx.prompt)] : null,
            ctx.remediationTarget ? ['Remediation target', ctx.remediationTarget] : null,
            ctx.source ? ['Source', ctx.source] : null,
          ]),
    ),

    d.fixes.length > 0
      ? section(
          'Proposed fix',
          d.fixDiff
            ? diffView(d.fixDiff)
            : el('p', { class: 'error' }, `The proposed fix does not apply to the stored object: ${d.fixError ?? 'unknown error'}`),
          rawPatch(d.fixes),
        )
      : null,

    d.tool
      ? section(
          'Tool call',
          el('pre', { class: 'code' }, JSON.stringify({ name: d.tool.name, arguments: d.tool.arguments, target: d.tool.target }, null, 2)),
          redactedList(d.tool.redactions ?? []),
        )
      : null,

    d.decision || d.override || d.consumption ? section('Decision', decisionView(d)) : null,

    section(
      'Policy that asked',
      table([
        ['Bundle revision', el('code', { class: 'revision' }, d.bundleRevision || '—')],
        ['Bundle digest', el('code', { class: 'digest' }, d.bundleDigest ?? 'not recorded')],
        ['Rules', d.reasons.map((r) => r.rule).join(', ') || '—'],
      ]),
    ),

    d.history.length > 0 ? section('Earlier requests for this object', historyView(d.history)) : null,

    d.objectYaml || d.objectExcerpt
      ? el(
          'details',
          { class: 'object' },
          el('summary', {}, d.objectYaml ? 'Object as submitted (secrets redacted)' : 'Object (too large to keep: first bytes)'),
          el('pre', { class: 'code' }, d.objectYaml ?? d.objectExcerpt ?? ''),
        )
      : null,

    el(
      'p',
      { class: 'meta' },
      `approvers: ${d.approverGroups.join(', ')} · bundle ${d.bundleRevision || '—'} · created ${d.createdAt ?? '—'} · requiredBy ${d.requiredBy} · object ${d.objectDigest}`,
    ),
  );
}

/**
 * What belay hid from everyone (approvers included), and why; never the values.
 * @param {{pointer: string, kind: string, rule: string, description: string}[]} redactions
 */
function redactedList(redactions) {
  if (redactions.length === 0) return null;
  return el(
    'div',
    { class: 'redactions' },
    el('p', { class: 'meta' }, 'Secrets in the arguments are shown as [REDACTED] to everyone; the agent keeps its own values:'),
    el('ul', {}, ...redactions.map((r) => el('li', {}, `${r.pointer || '/'} — ${r.description} (${r.kind}, rule ${r.rule})`))),
  );
}

/** @param {Detail} d */
function decisionView(d) {
  const parts = [];
  if (d.decision) {
    parts.push(
      table([
        [
          'Decided',
          `${d.phase === 'Rejected' ? 'rejected' : 'approved'}${d.decision.by ? ` by ${d.decision.by}` : ''}${d.decision.at ? ` at ${d.decision.at}` : ''}`,
        ],
        ['Message', d.decision.message ?? '—'],
        ['Edited', d.decision.edited ? 'yes' : 'no'],
      ]),
    );
  }
  if (d.override) {
    parts.push(el('h4', {}, "The approver's edit"));
    parts.push(d.overrideDiff ? diffView(d.overrideDiff) : el('pre', { class: 'code' }, JSON.stringify(d.override, null, 2)));
  }
  if (d.consumption)
    parts.push(
      el(
        'p',
        {},
        `Used by request ${d.consumption.requestUid} at ${d.consumption.at}${d.consumption.confirmedAt ? '' : ' (not yet confirmed by validation)'}.`,
      ),
    );
  return el('div', {}, ...parts);
}

/** @param {HistoryEntry[]} entries */
function historyView(entries) {
  return el(
    'ul',
    { class: 'history' },
    ...entries.map((h) =>
      el(
        'li',
        { data: { id: h.id } },
        phaseBadge(h.phase),
        ` ${h.operation} by ${h.requester}`,
        h.decidedBy ? ` · ${h.phase === 'Rejected' ? 'rejected' : 'decided'} by ${h.decidedBy}` : '',
        h.message ? ` · “${h.message}”` : '',
        h.outcome
          ? el(
              'span',
              { class: `outcome outcome-${safeClass(h.outcome.result)}` },
              ` · outcome ${h.outcome.result}${h.outcome.message ? `: ${h.outcome.message}` : ''}`,
            )
          : null,
        ` · ${h.createdAt ? ago(h.createdAt) : ''}`,
        ' ',
        el('code', { class: 'id' }, h.id),
      ),
    ),
  );
}

/** @param {string} title @param {...(Node | null)} body */
function section(title, ...body) {
  return el('section', { class: 'block' }, el('h3', {}, title), ...body);
}

/** @param {([string, string | Node] | null)[]} rows */
function table(rows) {
  return el('dl', { class: 'facts' }, ...rows.filter((r) => r !== null).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/** @param {DiffLine[]} lines */
function diffView(lines) {
  if (lines.length === 0) return el('p', { class: 'muted' }, 'No change to the object.');
  const marks = { add: '+', remove: '-', context: ' ', hunk: '' };
  return el('pre', { class: 'diff', label: 'diff' }, ...lines.map((l) => el('span', { class: `line ${l.kind}` }, `${marks[l.kind] ?? ' '}${l.text}\n`)));
}

/** @param {PatchOp[]} ops */
function rawPatch(ops) {
  return el(
    'details',
    { class: 'raw' },
    el('summary', {}, `JSON patch (${ops.length} operation${ops.length === 1 ? '' : 's'})`),
    el('pre', { class: 'code' }, JSON.stringify(ops, null, 2)),
  );
}

// ---------------------------------------------------------------- actions

/** @param {Detail} d */
function actionsSection(d) {
  const box = el('section', { class: 'block actions', data: { id: d.id } });
  if (d.phase !== 'Pending') {
    box.append(el('p', { class: 'muted' }, d.you.why ?? `This request is ${d.phase}; there is nothing to decide.`));
    return box;
  }
  const notice = el('p', { class: 'notice', role: 'status', hidden: true });
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  const message = /** @type {HTMLTextAreaElement} */ (
    el('textarea', { id: 'message', rows: 2, placeholder: 'Why (required to reject; the agent and the human behind it read it)' })
  );
  const approve = el('button', { type: 'button', class: 'primary' }, 'Approve');
  const approveFix = d.hasFix && d.object ? el('button', { type: 'button', class: 'primary' }, 'Approve and apply fix') : null;
  const reject = el('button', { type: 'button', class: 'danger' }, 'Reject');
  const edit = el('button', { type: 'button' }, 'Edit…');
  const editor = editPanel(d, (body) => send(body));
  const buttons = /** @type {HTMLElement[]} */ ([approve, approveFix, reject, edit].filter((b) => b !== null));

  box.append(el('h3', {}, 'Decide'));
  if (!d.you.mayDecide) box.append(el('p', { class: 'warning' }, `belay is likely to refuse your decision: ${d.you.why ?? ''}`));
  box.append(el('label', { for: 'message' }, 'Message'), message, el('div', { class: 'buttons' }, ...buttons), editor.panel, notice, error);
  const run = runPanel(d, message);
  if (run) {
    box.append(run.panel);
    buttons.push(...run.buttons);
  }

  /** @param {Record<string, unknown>} body */
  async function send(body) {
    if (state.busy) return;
    state.busy = true;
    for (const b of [...buttons, ...editor.buttons]) b.setAttribute('disabled', '');
    showMessage(error, null);
    showMessage(notice, null);
    const text = message.value.trim();
    try {
      // The version on screen: the info above is re-rendered as the request changes, the form is kept.
      const seen = state.detail?.id === d.id ? state.detail.resourceVersion : d.resourceVersion;
      const next = /** @type {Detail} */ (
        await api('POST', `${approvalPath(d.id)}/decision`, { ...body, ...(text ? { message: text } : {}), ...(seen ? { resourceVersion: seen } : {}) })
      );
      renderDetail(next, true);
      const done = byId('detail').querySelector('.actions');
      if (done)
        done.prepend(
          el(
            'p',
            { class: 'notice', role: 'status' },
            next.phase === 'Rejected'
              ? `Rejected. The agent's retries are refused with your message until ${next.requiredBy}.`
              : `Approved${next.decision?.edited ? ' with an edit' : ''}: ${next.approvedNote}.`,
          ),
        );
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'error', String(err));
      if (e.status === 401) {
        signOut(`Signed out: ${e.message}`);
        return;
      }
      const label =
        e.status === 403 ? 'Refused' : e.status === 409 ? 'Conflict' : e.status === 400 ? 'Not accepted' : e.status === 404 ? 'Not found' : 'Failed';
      showMessage(error, `${label}: ${e.message}`);
      for (const b of [...buttons, ...editor.buttons]) b.removeAttribute('disabled');
    } finally {
      state.busy = false;
    }
  }

  approve.addEventListener('click', () => void send({ action: 'approve' }));
  approveFix?.addEventListener('click', () => void send({ action: 'approve', applyFixes: true }));
  reject.addEventListener('click', () => {
    if (!message.value.trim()) {
      showMessage(error, 'Not accepted: a rejection needs a message — the agent, and the human behind it, read why.');
      message.focus();
      return;
    }
    void send({ action: 'reject' });
  });
  edit.addEventListener('click', () => {
    editor.panel.hidden = !editor.panel.hidden;
    if (!editor.panel.hidden) editor.focus();
  });
  return box;
}

/**
 * The pending requests of the same workflow run, decided together (the plan
 * approved as a whole): each is still decided, and judged, on its own; the
 * answer lists each request's result.
 * @param {Detail} d
 * @param {HTMLTextAreaElement} message
 */
function runPanel(d, message) {
  const run = d.workflowRun;
  if (!run || run.pending.length < 2) return null;
  const n = run.pending.length;
  const panel = el('div', { class: 'run' });
  const results = el('ul', { class: 'run-results', hidden: true });
  const approveAll = el('button', { type: 'button', class: 'primary' }, `Approve all ${n}`);
  const rejectAll = el('button', { type: 'button', class: 'danger' }, `Reject all ${n}`);
  // Classes of its own: the single request's notice, warning and error stay the only ones of their kind.
  const error = el('p', { class: 'run-error', role: 'alert', hidden: true });
  panel.append(
    el('h4', {}, `Workflow ${run.workflow}${run.run ? ` · run ${run.run}` : ''}: ${n} pending requests`),
    el(
      'ul',
      { class: 'run-items' },
      ...run.pending.map((p) =>
        el(
          'li',
          { data: { id: p.id } },
          el('span', { class: 'summary' }, p.summary),
          ' ',
          el('code', { class: 'id' }, p.id),
          p.you.mayDecide ? null : el('span', { class: 'run-note' }, ` (${p.you.why ?? 'you may not decide it'})`),
        ),
      ),
    ),
    el('div', { class: 'buttons' }, approveAll, rejectAll),
    error,
    results,
  );

  /** @param {'approve' | 'reject'} action */
  async function decideAll(action) {
    const text = message.value.trim();
    if (action === 'reject' && !text) {
      showMessage(error, 'Not accepted: a rejection needs a message — the agent, and the human behind it, read why.');
      message.focus();
      return;
    }
    if (state.busy) return;
    state.busy = true;
    showMessage(error, null);
    for (const b of [approveAll, rejectAll]) b.setAttribute('disabled', '');
    try {
      const answer = /** @type {RunDecision} */ (
        await api('POST', 'workflow-runs/decision', {
          action,
          workflow: run?.workflow,
          run: run?.run ?? null,
          ids: run?.pending.map((p) => p.id),
          ...(text ? { message: text } : {}),
        })
      );
      results.replaceChildren(
        el('li', { class: 'run-done' }, `${answer.decided} of ${answer.results.length} ${action === 'approve' ? 'approved' : 'rejected'}.`),
        ...answer.results.map((r) =>
          el('li', { class: r.ok ? 'run-ok' : 'run-refused', data: { id: r.id } }, `${r.id}: `, r.ok ? (r.phase ?? '') : `refused — ${r.error?.message ?? ''}`),
        ),
      );
      results.hidden = false;
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'error', String(err));
      if (e.status === 401) return signOut(`Signed out: ${e.message}`);
      showMessage(error, `Failed: ${e.message}`);
      for (const b of [approveAll, rejectAll]) b.removeAttribute('disabled');
    } finally {
      state.busy = false;
    }
  }
  approveAll.addEventListener('click', () => void decideAll('approve'));
  rejectAll.addEventListener('click', () => void decideAll('reject'));
  return { panel, buttons: [approveAll, rejectAll] };
}

/**
 * The [Edit] panel: replacement arguments for a tool call; for an object,
 * the edited object (YAML or JSON; the gateway computes the patch) or a JSON patch.
 * @param {Detail} d
 * @param {(body: Record<string, unknown>) => void} submit
 */
function editPanel(d, submit) {
  const panel = el('div', { class: 'edit', hidden: true });
  const area = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'edit-text', class: 'code', rows: 16 }));
  area.spellcheck = false;
  const go = el('button', { type: 'button', class: 'primary' }, 'Approve with this edit');
  const cancel = el('button', { type: 'button', class: 'quiet' }, 'Cancel');
  /** @type {'arguments' | 'object' | 'patch'} */
  let kind;
  /** @type {HTMLSelectElement | null} */
  let select = null;

  if (d.tool) {
    kind = 'arguments';
    area.value = JSON.stringify(d.tool.arguments ?? {}, null, 2);
    panel.append(
      el(
        'label',
        { for: 'edit-text' },
        'Replacement arguments for the tool call (YAML or JSON). A value left as [REDACTED] where it stands keeps the agent’s own value; type a value to replace it.',
      ),
    );
  } else if (d.object) {
    kind = 'object';
    select = /** @type {HTMLSelectElement} */ (
      el(
        'select',
        { id: 'edit-kind' },
        el('option', { value: 'object' }, 'Edited object (YAML or JSON)'),
        el('option', { value: 'patch' }, 'JSON patch (RFC 6902)'),
      )
    );
    area.value = d.objectYaml ?? '';
    const sel = select;
    sel.addEventListener('change', () => {
      kind = sel.value === 'patch' ? 'patch' : 'object';
      area.value =
        kind === 'patch' ? JSON.stringify(d.fixes.length ? d.fixes : [{ op: 'replace', path: '/spec/replicas', value: 1 }], null, 2) : (d.objectYaml ?? '');
    });
    panel.append(
      el('label', { for: 'edit-kind' }, 'Edit as'),
      sel,
      el('label', { for: 'edit-text' }, 'The object the agent will get (kind, name and namespace cannot change)'),
    );
  } else {
    kind = 'patch';
    area.value = '[]';
    panel.append(
      el(
        'p',
        { class: 'muted' },
        d.objectExcerpt
          ? 'The object was too large to keep; give a JSON patch.'
          : 'This request has no object to edit (a delete, a connect or a read): approve or reject it as it is.',
      ),
    );
  }
  panel.append(area, el('div', { class: 'buttons' }, go, cancel));
  go.addEventListener('click', () => submit({ action: 'edit', [kind]: area.value }));
  cancel.addEventListener('click', () => {
    panel.hidden = true;
  });
  return { panel, buttons: [go], focus: () => area.focus() };
}

// ---------------------------------------------------------------- start

function start() {
  byId('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token');
    const token = input instanceof HTMLInputElement ? input.value.trim() : '';
    if (!token) return;
    state.token = token;
    signIn().then(
      () => {
        if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
        showMessage(byId('login-error'), null);
        if (input instanceof HTMLInputElement) input.value = '';
      },
      (err) =>
        signOut(
          err instanceof ApiError && err.status === 401
            ? `That token was not accepted: ${err.message}`
            : `Cannot sign in: ${err instanceof Error ? err.message : String(err)}`,
        ),
    );
  });
  byId('signout').addEventListener('click', () => signOut(null));
  byId('filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('namespace');
    state.namespace = input instanceof HTMLInputElement ? input.value.trim() : '';
    state.version = undefined;
    startPolling();
  });
  setInterval(tick, 1000);
  if (state.token) {
    signIn().catch((err) =>
      signOut(err instanceof ApiError && err.status === 401 ? null : `Cannot sign in: ${err instanceof Error ? err.message : String(err)}`),
    );
  } else {
    signOut(null);
  }
}

start();
