// A generic webhook: the notification as a CloudEvent 1.0 over HTTP, in
// structured mode (Content-Type application/cloudevents+json, the event with
// its data as the body) or binary mode (the attributes as ce-* headers,
// percent-encoded as the HTTP binding asks, the data as the JSON body), or
// as plain JSON. The event's id is the idempotency key in every mode, also
// sent as Idempotency-Key, so a receiver can drop a repeat.

import { type HttpChannel, readSecret } from '../config.js';
import type { Notification } from '../view.js';
import { failureOf, ok, post } from './http.js';
import { DeliveryError, type Sink } from './sink.js';

export const EVENT_TYPE_PREFIX = 'dev.belay.approval.';

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: Notification['data'];
}

export function cloudEvent(n: Notification, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: n.id,
    source,
    type: `${EVENT_TYPE_PREFIX}${n.event}`,
    subject: n.data.approval.id,
    time: n.time,
    datacontenttype: 'application/json',
    data: n.data,
  };
}

/** The body and headers of one delivery in the channel's format. */
export function webhookRequest(n: Notification, format: HttpChannel['format'], source: string): { headers: Record<string, string>; body: string } {
  const event = cloudEvent(n, source);
  const common = { 'Idempotency-Key': n.id };
  if (format === 'cloudevents-structured') {
    return { headers: { ...common, 'Content-Type': 'application/cloudevents+json; charset=utf-8' }, body: JSON.stringify(event) };
  }
  if (format === 'cloudevents-binary') {
    const { data, datacontenttype, ...attributes } = event;
    const headers: Record<string, string> = { ...common, 'Content-Type': `${datacontenttype}; charset=utf-8` };
    for (const [k, v] of Object.entries(attributes)) headers[`ce-${k}`] = percentEncode(v);
    return { headers, body: JSON.stringify(data) };
  }
  return {
    headers: { ...common, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ id: n.id, type: event.type, time: n.time, ...n.data }),
  };
}

/**
 * A header value as the CloudEvents HTTP binding (3.1.3.2) asks: space, double
 * quote, percent and everything outside printable ASCII as %XX of its UTF-8 bytes.
 */
export function percentEncode(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x21 && code <= 0x7e && ch !== '"' && ch !== '%') out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function webhookSink(c: HttpChannel, source: string): Sink {
  return {
    name: c.name,
    type: 'webhook',
    async send(n, signal) {
      const { headers, body } = webhookRequest(n, c.format, source);
      if (c.token) headers.Authorization = `Bearer ${secret(c.token)}`;
      const answer = await post(secret(c.url), { headers, body, signal, caFile: c.caFile });
      if (!ok(answer.status)) throw failureOf(answer);
    },
  };
}

/** A secret read now; one that cannot be read is the channel's configuration, not the network. */
export function secret(s: HttpChannel['url']): string {
  try {
    return readSecret(s);
  } catch (err) {
    throw new DeliveryError('misconfigured', (err as Error).message);
  }
}
