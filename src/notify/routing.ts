// Who is told about what, as policy data (data.belay.config.notifications in
// the bundle, reviewed in pull requests like the rules): routes from a
// request's namespace, approver groups, risk, rule ids, requester, the human
// it acts for and workflow to named channels, per event; and when the
// reminder goes out. The channels themselves (URLs, credentials) are the
// gateway's configuration (config.ts), never the bundle's. A route that
// cannot be read is reported and skipped, never thrown.

import type { ApprovalRequest, NotificationEvent } from '../approvals/resource.js';
import { NOTIFICATION_EVENTS } from '../approvals/resource.js';
import type { JsonObject } from '../contract/index.js';
import { parseDuration } from '../util/duration.js';

export const MATCH_KEYS = ['namespaces', 'approverGroups', 'risks', 'rules', 'requesters', 'onBehalfOf', 'workflows'] as const;
type MatchKey = (typeof MATCH_KEYS)[number];

export interface Route {
  /** Each given key must match (any of its patterns; `*` is a wildcard); no keys: every request. */
  readonly match: Partial<Record<MatchKey, readonly string[]>>;
  readonly events: ReadonlySet<NotificationEvent>;
  readonly channels: readonly string[];
}

/** When the reminder goes out: at a fraction of the request's time, or this long before it expires. */
export type ReminderSpec = { readonly fraction: number } | { readonly beforeMs: number };

export interface Routing {
  readonly routes: readonly Route[];
  readonly reminder: ReminderSpec | null;
  readonly problems: readonly string[];
}

/** Routes without "events": what approvers need. */
export const DEFAULT_EVENTS: readonly NotificationEvent[] = ['requested', 'reminder'];
/** "decided" in a route's events: both decisions. */
const ALIASES: Record<string, readonly NotificationEvent[]> = { decided: ['approved', 'rejected'], '*': NOTIFICATION_EVENTS };
export const DEFAULT_REMINDER: ReminderSpec = { fraction: 0.5 };
export const NO_ROUTING: Routing = { routes: [], reminder: DEFAULT_REMINDER, problems: [] };

/** The routing in a bundle's data (data.belay.config.notifications); none when absent. */
export function routingFromData(data: JsonObject | undefined): Routing {
  const n = ((data?.belay as JsonObject | undefined)?.config as JsonObject | undefined)?.notifications;
  return parseRouting(n);
}

export function parseRouting(raw: unknown): Routing {
  if (raw === undefined || raw === null) return NO_ROUTING;
  const problems: string[] = [];
  if (!isObject(raw)) return { ...NO_ROUTING, problems: ['data.belay.config.notifications must be an object with "routes"'] };
  const reminder = reminderOf(raw.reminder, problems);
  const routes: Route[] = [];
  const list = raw.routes ?? [];
  if (!Array.isArray(list)) problems.push('notifications.routes must be a list');
  for (const [i, r] of (Array.isArray(list) ? list : []).entries()) {
    const route = routeOf(r, `notifications.routes[${i}]`, problems);
    if (route) routes.push(route);
  }
  return { routes, reminder, problems };
}

/** The channels `event` of `r` goes to: every matching route's, each once, in order. */
export function channelsFor(routing: Routing, r: ApprovalRequest, event: NotificationEvent): string[] {
  const out = new Set<string>();
  for (const route of routing.routes) {
    if (!route.events.has(event) || !matches(route.match, r)) continue;
    for (const c of route.channels) out.add(c);
  }
  return [...out];
}

/** Every channel a route names (checked against the configured channels at start-up and on each new bundle). */
export function namedChannels(routing: Routing): string[] {
  return [...new Set(routing.routes.flatMap((r) => r.channels))];
}

/** When `r`'s reminder is due (ms since the epoch), or undefined without one. */
export function reminderAt(spec: ReminderSpec | null, createdMs: number, requiredByMs: number): number | undefined {
  if (!spec || !Number.isFinite(createdMs) || !Number.isFinite(requiredByMs) || requiredByMs <= createdMs) return undefined;
  const at = 'fraction' in spec ? createdMs + spec.fraction * (requiredByMs - createdMs) : requiredByMs - spec.beforeMs;
  return at > createdMs ? at : undefined;
}

function matches(match: Route['match'], r: ApprovalRequest): boolean {
  const spec = r.spec;
  const values: Record<MatchKey, () => string[]> = {
    namespaces: () => [spec.request?.namespace || r.metadata.namespace],
    approverGroups: () => spec.approverGroups ?? [],
    risks: () => [spec.risk ?? ''],
    rules: () => (spec.reasons ?? []).map((x) => x.rule),
    requesters: () => [spec.requester?.user ?? ''],
    onBehalfOf: () => (spec.requester?.onBehalfOf ? [spec.requester.onBehalfOf] : []),
    workflows: () => (spec.context?.workflow ? [spec.context.workflow] : []),
  };
  for (const key of MATCH_KEYS) {
    const patterns = match[key];
    if (!patterns) continue;
    const have = values[key]();
    if (!patterns.some((p) => have.some((v) => glob(p, v)))) return false;
  }
  return true;
}

/** `*` matches any run of characters; everything else literally. */
export function glob(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(value);
}

function routeOf(raw: unknown, where: string, problems: string[]): Route | undefined {
  if (!isObject(raw)) {
    problems.push(`${where} must be an object with "channels"`);
    return undefined;
  }
  const known = new Set(['match', 'events', 'channels', 'description']);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) problems.push(`${where}: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (ignored)`);
  const channels = strings(raw.channels);
  if (!channels || channels.length === 0) {
    problems.push(`${where}.channels must list one or more channel names`);
    return undefined;
  }
  const match: Partial<Record<MatchKey, readonly string[]>> = {};
  if (raw.match !== undefined) {
    if (!isObject(raw.match)) {
      problems.push(`${where}.match must be an object`);
      return undefined;
    }
    for (const [k, v] of Object.entries(raw.match)) {
      if (!(MATCH_KEYS as readonly string[]).includes(k)) {
        problems.push(`${where}.match.${k} is not a match key (${MATCH_KEYS.join(', ')}); the route is skipped`);
        return undefined;
      }
      const list = strings(v);
      if (!list) {
        problems.push(`${where}.match.${k} must be a list of strings; the route is skipped`);
        return undefined;
      }
      match[k as MatchKey] = list;
    }
  }
  let events: Set<NotificationEvent> = new Set(DEFAULT_EVENTS);
  if (raw.events !== undefined) {
    const list = strings(raw.events);
    const bad = (list ?? []).filter((e) => !(NOTIFICATION_EVENTS as readonly string[]).includes(e) && !ALIASES[e]);
    if (!list || bad.length) {
      problems.push(
        `${where}.events must list events (${[...NOTIFICATION_EVENTS, 'decided', '*'].join(', ')})${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`,
      );
      return undefined;
    }
    events = new Set(list.flatMap((e) => ALIASES[e] ?? [e as NotificationEvent]));
  }
  return { match, events, channels };
}

function reminderOf(raw: unknown, problems: string[]): ReminderSpec | null {
  if (raw === undefined) return DEFAULT_REMINDER;
  if (raw === false || raw === null) return null;
  if (typeof raw === 'number' && raw > 0 && raw < 1) return { fraction: raw };
  if (typeof raw === 'string') {
    const pct = /^(\d{1,2})%$/.exec(raw);
    if (pct && Number(pct[1]) > 0) return { fraction: Number(pct[1]) / 100 };
    try {
      const ms = parseDuration(raw);
      if (ms > 0) return { beforeMs: ms };
    } catch {
      // reported below
    }
  }
  problems.push(
    `notifications.reminder must be a share of the request's time ("50%" or 0.5), a duration before it expires ("5m"), or false; got ${JSON.stringify(raw)}`,
  );
  return DEFAULT_REMINDER;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '') ? (v as string[]) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
