// Test support: a loopback HTTP server that receives notifications the way
// the real services do, and records every request. Each path speaks one
// shape and refuses a malformed one as that service would:
//
//   /slack…   a Slack incoming webhook: JSON with text/blocks within Block
//             Kit's limits → 200 "ok"; else 400 invalid_blocks
//   /teams…   a Teams incoming webhook: a message activity with one Adaptive
//             Card attachment → 200 "1"; else 200 with "Webhook message
//             delivery failed …" in the body, as a classic connector does
//   /events…  a CloudEvents 1.0 HTTP receiver, structured or binary mode
//             (required attributes present) → 202; else 400
//   /json…    any JSON → 200
//
// It can be stopped and started again on the same port (a receiver down for
// a while), or made to hold requests without answering (a slow sink).

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
  /** What the receiver answered: the status code (0 while held) and the body. */
  status: number;
  answer: string;
}

export interface ReceivedEvent {
  mode: 'structured' | 'binary';
  id: string;
  type: string;
  source: string;
  subject: string | undefined;
  time: string | undefined;
  data: any;
}

export class NotifyReceiver {
  readonly received: Received[] = [];
  /** Hold requests to these path prefixes without answering (until released or stopped). */
  readonly hang = new Set<string>();
  /** Answer requests to these path prefixes with this status. */
  readonly failWith = new Map<string, number>();
  #server: http.Server | undefined;
  #port: number;
  #held: http.ServerResponse[] = [];

  private constructor(port: number) {
    this.#port = port;
  }

  static async start(port = 0): Promise<NotifyReceiver> {
    const r = new NotifyReceiver(port);
    await r.listen();
    return r;
  }

  get port(): number {
    return this.#port;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  async listen(): Promise<void> {
    if (this.#server) return;
    const server = http.createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening: connections are refused until listen() again. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const res of this.#held.splice(0)) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests to a path prefix that the receiver accepted. */
  accepted(prefix: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(prefix) && r.status >= 200 && r.status < 300 && !refusedTeams(r));
  }

  /** CloudEvents accepted at a path prefix, in either mode. */
  events(prefix = '/events'): ReceivedEvent[] {
    return this.accepted(prefix).map(eventOf);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      if ([...this.hang].some((p) => path.startsWith(p))) {
        this.received.push({ path, headers: req.headers, body, json, at: Date.now(), status: 0, answer: '' });
        this.#held.push(res);
        return;
      }
      const forced = [...this.failWith].find(([p]) => path.startsWith(p))?.[1];
      const [status, text] = forced ? [forced, 'failing on purpose'] : answer(path, req.headers, json);
      this.received.push({ path, headers: req.headers, body, json, at: Date.now(), status, answer: text });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);
    });
  }
}

function answer(path: string, headers: http.IncomingHttpHeaders, json: any): [number, string] {
  if (path.startsWith('/slack')) return slackProblem(json) ? [400, 'invalid_blocks'] : [200, 'ok'];
  if (path.startsWith('/teams')) {
    return teamsProblem(json)
      ? [200, 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 400 with ContextId tcid=0']
      : [200, '1'];
  }
  if (path.startsWith('/events')) return cloudEventProblem(headers, json) ? [400, 'not a CloudEvent'] : [202, ''];
  return json === undefined ? [400, 'not JSON'] : [200, 'ok'];
}

/** Block Kit's limits for messages (docs.slack.dev reference: blocks). */
export function slackProblem(m: any): string | undefined {
  if (typeof m !== 'object' || m === null) return 'not a JSON object';
  if (typeof m.text !== 'string' && !Array.isArray(m.blocks)) return 'no text and no blocks';
  const blocks = m.blocks ?? [];
  if (!Array.isArray(blocks) || blocks.length > 50) return 'more than 50 blocks';
  const text = (t: any, max: number, types = ['plain_text', 'mrkdwn']) =>
    typeof t === 'object' && t !== null && types.includes(t.type) && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
  for (const b of blocks) {
    switch (b?.type) {
      case 'header':
        if (!text(b.text, 150, ['plain_text'])) return 'bad header';
        break;
      case 'section':
        if (b.text === undefined && b.fields === undefined) return 'empty section';
        if (b.text !== undefined && !text(b.text, 3000)) return 'bad section text';
        if (b.fields !== undefined && (!Array.isArray(b.fields) || b.fields.length > 10 || !b.fields.every((f: any) => text(f, 2000)))) return 'bad fields';
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10 || !b.elements.every((e: any) => text(e, 3000)))
          return 'bad context';
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) return 'bad actions';
        for (const e of b.elements) {
          if (e?.type !== 'button' || !text(e.text, 75, ['plain_text']) || (e.url !== undefined && (typeof e.url !== 'string' || e.url.length > 3000)))
            return 'bad button';
        }
        break;
      case 'divider':
        break;
      default:
        return `unknown block type ${JSON.stringify(b?.type)}`;
    }
  }
  return undefined;
}

export function teamsProblem(m: any): string | undefined {
  if (m?.type !== 'message' || !Array.isArray(m.attachments) || m.attachments.length !== 1) return 'not a message with one attachment';
  const a = m.attachments[0];
  if (a?.contentType !== 'application/vnd.microsoft.card.adaptive') return 'not an Adaptive Card attachment';
  const c = a.content;
  if (c?.type !== 'AdaptiveCard' || typeof c.version !== 'string' || !Array.isArray(c.body) || c.body.length === 0) return 'not an Adaptive Card';
  for (const e of c.body) if (typeof e?.type !== 'string') return 'a body element without a type';
  for (const x of c.actions ?? []) if (x?.type !== 'Action.OpenUrl' || typeof x.url !== 'string') return 'an action that is not Action.OpenUrl';
  return undefined;
}

export function cloudEventProblem(headers: http.IncomingHttpHeaders, json: any): string | undefined {
  const type = String(headers['content-type'] ?? '');
  if (type.startsWith('application/cloudevents+json')) {
    if (json?.specversion !== '1.0') return 'specversion is not 1.0';
    for (const k of ['id', 'source', 'type']) if (typeof json[k] !== 'string' || json[k] === '') return `${k} is missing`;
    return undefined;
  }
  if (headers['ce-specversion'] !== '1.0') return 'neither structured (content type) nor binary (ce-specversion)';
  for (const k of ['ce-id', 'ce-source', 'ce-type']) if (typeof headers[k] !== 'string' || headers[k] === '') return `${k} is missing`;
  if (headers['ce-datacontenttype'] !== undefined) return 'binary mode must not send ce-datacontenttype';
  return json === undefined ? 'the data is not JSON' : undefined;
}

/** A classic Teams connector says "delivery failed" in a 200 answer. */
function refusedTeams(r: Received): boolean {
  return r.path.startsWith('/teams') && r.answer.includes('delivery failed');
}

function eventOf(r: Received): ReceivedEvent {
  const type = String(r.headers['content-type'] ?? '');
  if (type.startsWith('application/cloudevents+json')) {
    return { mode: 'structured', id: r.json.id, type: r.json.type, source: r.json.source, subject: r.json.subject, time: r.json.time, data: r.json.data };
  }
  const h = (k: string) => {
    const v = r.headers[k];
    return typeof v === 'string' ? decodeURIComponent(v) : undefined;
  };
  return { mode: 'binary', id: h('ce-id')!, type: h('ce-type')!, source: h('ce-source')!, subject: h('ce-subject'), time: h('ce-time'), data: r.json };
}
