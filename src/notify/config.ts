// The gateway's side of notifications: which channels exist and how to reach
// them (a YAML file, --notify-config), never the policy bundle. Sink URLs,
// tokens and SMTP credentials are read from files (in a cluster, Kubernetes
// Secrets mounted as files), re-read on every delivery so a rotated Secret
// is picked up without a restart. Nothing here throws: a channel that is
// wrong (bad URL, missing file, unknown type) is reported as a problem —
// at start-up, in /readyz and in metrics — and left out; the rest work.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../util/duration.js';

export const CHANNEL_TYPES = ['slack', 'teams', 'webhook', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const WEBHOOK_FORMATS = ['cloudevents-structured', 'cloudevents-binary', 'json'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A value given inline (not a secret) or read from a file each time it is used (a secret). */
export type Secret = { readonly value: string } | { readonly file: string };

export interface HttpChannel {
  readonly name: string;
  readonly type: 'slack' | 'teams' | 'webhook';
  readonly url: Secret;
  /** webhook: how the event is sent. */
  readonly format: WebhookFormat;
  /** webhook: Authorization: Bearer …; slack with `slackChannel`: the bot token for chat.postMessage. */
  readonly token?: Secret;
  /** slack: post with chat.postMessage to this channel (else `url` is an incoming webhook). */
  readonly slackChannel?: string;
  /** PEM CA bundle the sink's certificate must chain to (else the system's). */
  readonly caFile?: string;
  readonly timeoutMs: number;
}

export interface EmailChannel {
  readonly name: string;
  readonly type: 'email';
  readonly host: string;
  readonly port: number;
  /** tls: TLS from the first byte (465); starttls: upgrade required (587); none: plain (a relay on localhost). */
  readonly security: 'tls' | 'starttls' | 'none';
  readonly username?: Secret;
  readonly password?: Secret;
  readonly caFile?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
}

export type ChannelConfig = HttpChannel | EmailChannel;

export interface DeliveryConfig {
  /** First retry after this; doubled each time up to maxBackoffMs (with jitter). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A notification still failing this long after it was first due is dropped (recorded, counted). */
  readonly giveUpAfterMs: number;
  /** Events older than this when first seen (a long outage, an upgrade onto old requests) are not sent. */
  readonly maxEventAgeMs: number;
  /** Consecutive failures that open a channel's circuit breaker. */
  readonly breakerFailures: number;
  /** How long an open breaker waits before one trial delivery. */
  readonly breakerCooldownMs: number;
  /** Deliveries in flight per channel. */
  readonly concurrency: number;
}

export interface NotifyConfig {
  /** The console's URL (…/console/); a notification links to `${consoleUrl}#namespace/name`. */
  readonly consoleUrl: string | null;
  /** CloudEvents `source`. */
  readonly source: string;
  readonly channels: readonly ChannelConfig[];
  readonly delivery: DeliveryConfig;
  /** What is wrong with the file or a channel; such a channel is left out. */
  readonly problems: readonly ChannelProblem[];
}

export interface ChannelProblem {
  /** The channel, or undefined for the file as a whole. */
  readonly channel?: string;
  readonly message: string;
}

export const DEFAULT_DELIVERY: DeliveryConfig = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  giveUpAfterMs: 3_600_000,
  maxEventAgeMs: 3_600_000,
  breakerFailures: 5,
  breakerCooldownMs: 30_000,
  concurrency: 4,
};
export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_SOURCE = '/belay/approvals';
const NAME = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/** Reads and checks the file; every problem is returned, none thrown. */
export function loadNotifyConfig(file: string): NotifyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return empty(`cannot read the notifications configuration ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    return empty(`the notifications configuration ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseNotifyConfig(raw ?? {});
}

/** A configuration from its parsed form (the file's YAML, or an object in tests). */
export function parseNotifyConfig(raw: unknown): NotifyConfig {
  if (!isObject(raw)) return empty('the notifications configuration must be a mapping with "channels"');
  const problems: ChannelProblem[] = [];
  const known = new Set(['consoleUrl', 'source', 'channels', 'delivery']);
  for (const k of Object.keys(raw)) if (!known.has(k)) problems.push({ message: `unknown setting ${JSON.stringify(k)} (known: ${[...known].join(', ')})` });

  let consoleUrl: string | null = null;
  if (raw.consoleUrl !== undefined) {
    const u = httpUrl(raw.consoleUrl);
    if (typeof u === 'string') problems.push({ message: `consoleUrl: ${u}` });
    else consoleUrl = u.href.endsWith('/') ? u.href : `${u.href}/`;
  }
  const source = typeof raw.source === 'string' && raw.source !== '' ? raw.source : DEFAULT_SOURCE;
  const delivery = deliveryOf(raw.delivery, problems);

  const channels: ChannelConfig[] = [];
  const list = raw.channels ?? [];
  if (!Array.isArray(list)) problems.push({ message: '"channels" must be a list' });
  const seen = new Set<string>();
  for (const [i, c] of (Array.isArray(list) ? list : []).entries()) {
    const name = isObject(c) && typeof c.name === 'string' ? c.name : `channels[${i}]`;
    const r = channelOf(c);
    if (typeof r === 'string') {
      problems.push({ channel: name, message: r });
      continue;
    }
    if (seen.has(r.name)) {
      problems.push({ channel: r.name, message: 'a channel of this name is already defined; names must be unique' });
      continue;
    }
    seen.add(r.name);
    channels.push(r);
  }
  return { consoleUrl, source, channels, delivery, problems };
}

/** The secret's value now: the inline value, or the file's content (trimmed). Throws with a message naming the file. */
export function readSecret(s: Secret): string {
  if ('value' in s) return s.value;
  let text: string;
  try {
    text = readFileSync(s.file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${s.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.trim();
  if (value === '') throw new Error(`${s.file} is empty`);
  return value;
}

function channelOf(c: unknown): ChannelConfig | string {
  if (!isObject(c)) return 'each channel must be a mapping with "name" and "type"';
  if (typeof c.name !== 'string' || !NAME.test(c.name))
    return `"name" must be 1-64 lower-case letters, digits, ".", "_" or "-" (got ${JSON.stringify(c.name)})`;
  if (typeof c.type !== 'string' || !(CHANNEL_TYPES as readonly string[]).includes(c.type))
    return `"type" must be one of ${CHANNEL_TYPES.join(', ')} (got ${JSON.stringify(c.type)})`;
  const timeoutMs = c.timeout === undefined ? DEFAULT_TIMEOUT_MS : duration(c.timeout);
  if (typeof timeoutMs === 'string') return `"timeout": ${timeoutMs}`;
  const caFile = optionalString(c.caFile);
  if (caFile !== undefined) {
    const ca = checkFile(caFile);
    if (ca) return `"caFile": ${ca}`;
  }
  if (c.type === 'email') return emailOf(c, c.name, timeoutMs, caFile);

  const secrets = (['url', 'token'] as const).map((k) => secretOf(c, k));
  for (const s of secrets) if (typeof s === 'string') return s;
  const [url, token] = secrets as (Secret | undefined)[];
  if (c.type === 'slack' && c.channel !== undefined && (typeof c.channel !== 'string' || c.channel === ''))
    return '"channel" must be a Slack channel id or name';
  const slackChannel = c.type === 'slack' ? optionalString(c.channel) : undefined;
  if (slackChannel && !token) return 'posting with chat.postMessage ("channel") needs the bot token in "tokenFile"';
  const target = url ?? (slackChannel ? { value: 'https://slack.com/api/chat.postMessage' } : undefined);
  if (!target) return `"url" or "urlFile" is required for a ${c.type} channel`;
  const checked = checkUrl(target);
  if (checked) return checked;
  let format: WebhookFormat = 'cloudevents-structured';
  if (c.format !== undefined) {
    if (c.type !== 'webhook') return '"format" is for webhook channels';
    if (typeof c.format !== 'string' || !(WEBHOOK_FORMATS as readonly string[]).includes(c.format))
      return `"format" must be one of ${WEBHOOK_FORMATS.join(', ')} (got ${JSON.stringify(c.format)})`;
    format = c.format as WebhookFormat;
  }
  return {
    name: c.name,
    type: c.type as HttpChannel['type'],
    url: target,
    format,
    ...(token ? { token } : {}),
    ...(slackChannel ? { slackChannel } : {}),
    ...(caFile ? { caFile } : {}),
    timeoutMs,
  };
}

function emailOf(c: Record<string, unknown>, name: string, timeoutMs: number, caFile: string | undefined): EmailChannel | string {
  const smtp = c.smtp;
  if (!isObject(smtp)) return 'an email channel needs "smtp": {host, port, security, usernameFile, passwordFile}';
  if (typeof smtp.host !== 'string' || smtp.host === '') return '"smtp.host" is required';
  const security = smtp.security ?? 'starttls';
  if (security !== 'tls' && security !== 'starttls' && security !== 'none')
    return `"smtp.security" must be tls, starttls or none (got ${JSON.stringify(security)})`;
  const port = smtp.port ?? (security === 'tls' ? 465 : 587);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return '"smtp.port" must be a port number';
  const creds = (['username', 'password'] as const).map((k) => secretOf(smtp, k));
  for (const s of creds) if (typeof s === 'string') return `smtp: ${s}`;
  const [username, password] = creds as (Secret | undefined)[];
  if (!!username !== !!password) return 'smtp: give both the username and the password, or neither';
  if (typeof c.from !== 'string' || !ADDRESS.test(c.from)) return '"from" must be an email address';
  const to = typeof c.to === 'string' ? [c.to] : c.to;
  if (!Array.isArray(to) || to.length === 0 || !to.every((a) => typeof a === 'string' && ADDRESS.test(a))) return '"to" must be one or more email addresses';
  return {
    name,
    type: 'email',
    host: smtp.host,
    port,
    security,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(caFile ? { caFile } : {}),
    from: c.from,
    to: to as string[],
    timeoutMs,
  };
}

/**
 * `<key>` inline or `<key>File`. Tokens and passwords are credentials: only
 * from a file (a mounted Secret), never written into the configuration.
 */
function secretOf(c: Record<string, unknown>, key: 'url' | 'token' | 'username' | 'password'): Secret | undefined | string {
  const inline = c[key];
  const file = c[`${key}File`];
  if (inline !== undefined && file !== undefined) return `give "${key}" or "${key}File", not both`;
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '') return `"${key}File" must be a file path`;
    try {
      readSecret({ file });
    } catch (err) {
      return `"${key}File": ${(err as Error).message}`;
    }
    return { file };
  }
  if (inline === undefined) return undefined;
  if (key === 'token' || key === 'password') return `"${key}" is a credential: put it in a file (a mounted Secret) and give "${key}File"`;
  if (typeof inline !== 'string' || inline === '') return `"${key}" must be a string`;
  return { value: inline };
}

function checkUrl(s: Secret): string | undefined {
  let text: string;
  try {
    text = readSecret(s);
  } catch (err) {
    return (err as Error).message;
  }
  const u = httpUrl(text);
  // Never echo a URL read from a file: a Slack or Teams webhook URL is itself the credential.
  if (typeof u === 'string') return 'value' in s ? `"url": ${u}` : `"urlFile": ${s.file} does not hold an http(s) URL`;
  return undefined;
}

function httpUrl(v: unknown): URL | string {
  if (typeof v !== 'string' || v === '') return 'must be an http(s) URL';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `${JSON.stringify(v)} is not a URL`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `${JSON.stringify(u.protocol)} is not http or https`;
  return u;
}

function checkFile(file: string): string | undefined {
  try {
    readFileSync(file);
    return undefined;
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

function deliveryOf(raw: unknown, problems: ChannelProblem[]): DeliveryConfig {
  if (raw === undefined) return DEFAULT_DELIVERY;
  if (!isObject(raw)) {
    problems.push({ message: '"delivery" must be a mapping' });
    return DEFAULT_DELIVERY;
  }
  const out: { -readonly [K in keyof DeliveryConfig]: number } = { ...DEFAULT_DELIVERY };
  const durations: [string, keyof DeliveryConfig][] = [
    ['initialBackoff', 'initialBackoffMs'],
    ['maxBackoff', 'maxBackoffMs'],
    ['giveUpAfter', 'giveUpAfterMs'],
    ['maxEventAge', 'maxEventAgeMs'],
    ['breakerCooldown', 'breakerCooldownMs'],
  ];
  for (const [key, field] of durations) {
    if (raw[key] === undefined) continue;
    const ms = duration(raw[key]);
    if (typeof ms === 'string') problems.push({ message: `delivery.${key}: ${ms}` });
    else out[field] = ms;
  }
  for (const [key, field] of [
    ['breakerFailures', 'breakerFailures'],
    ['concurrency', 'concurrency'],
  ] as const) {
    const n = raw[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) problems.push({ message: `delivery.${key} must be a positive whole number` });
    else out[field] = n;
  }
  if (out.maxBackoffMs < out.initialBackoffMs) problems.push({ message: 'delivery.maxBackoff must not be below delivery.initialBackoff' });
  return out;
}

function duration(v: unknown): number | string {
  if (typeof v !== 'string') return 'must be a duration such as 5s or 1m';
  try {
    const ms = parseDuration(v);
    return ms > 0 ? ms : 'must be longer than zero';
  } catch (err) {
    return (err as Error).message;
  }
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function empty(message: string): NotifyConfig {
  return { consoleUrl: null, source: DEFAULT_SOURCE, channels: [], delivery: DEFAULT_DELIVERY, problems: [{ message }] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
