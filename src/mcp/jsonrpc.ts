// JSON-RPC 2.0 as the MCP proxy sees it: which kind a message is, the error
// answers it sends itself, and the reading of one line of newline-delimited
// JSON (the stdio framing) into a message or a precise complaint. Pure.

import { ErrorCode, type JSONRPCMessage, JSONRPCMessageSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCMessage, RequestId };
export { ErrorCode };

export interface Request {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
}

export interface Notification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface Response {
  jsonrpc: '2.0';
  id: RequestId;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

export type MessageKind = 'request' | 'notification' | 'response';

/** Which of the three a (schema-valid) message is. */
export function kindOf(message: JSONRPCMessage): MessageKind {
  const m = message as Record<string, unknown>;
  if (typeof m.method === 'string') return 'id' in m ? 'request' : 'notification';
  return 'response';
}

export function asRequest(message: JSONRPCMessage): Request {
  return message as unknown as Request;
}

export function asNotification(message: JSONRPCMessage): Notification {
  return message as unknown as Notification;
}

export function asResponse(message: JSONRPCMessage): Response {
  return message as unknown as Response;
}

/**
 * An error answer to request `id`. When the request could not be read far
 * enough to know its id, the id is left out: MCP's schema (2025-11-25) makes
 * it optional where JSON-RPC 2.0 says null, and MCP clients validate against
 * MCP's schema.
 */
export function errorResponse(id: RequestId | null, code: number, message: string, data?: unknown): JSONRPCMessage {
  const error = { code, message, ...(data === undefined ? {} : { data }) };
  return (id === null ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error }) as unknown as JSONRPCMessage;
}

export function resultResponse(id: RequestId, result: Record<string, unknown>): JSONRPCMessage {
  return { jsonrpc: '2.0', id, result } as unknown as JSONRPCMessage;
}

export function notification(method: string, params: Record<string, unknown>): JSONRPCMessage {
  return { jsonrpc: '2.0', method, params } as unknown as JSONRPCMessage;
}

export function request(id: RequestId, method: string, params: Record<string, unknown>): JSONRPCMessage {
  return { jsonrpc: '2.0', id, method, params } as unknown as JSONRPCMessage;
}

/** A line that is not a JSON-RPC message: what to answer (a parse error or an invalid request). */
export interface Malformed {
  code: ErrorCode.ParseError | ErrorCode.InvalidRequest;
  /** The id, when the line was JSON with a usable id: the error answer goes to it. */
  id: RequestId | null;
  /** The line was a response (or looked like one): nobody is waiting for an answer to it. */
  response: boolean;
  reason: string;
}

export type Parsed = { ok: true; message: JSONRPCMessage } | { ok: false; malformed: Malformed };

/**
 * Reads one line. The message handed on is the JSON as sent, not the schema's
 * parsed copy, so fields the SDK's schema does not know pass through
 * unchanged; the schema only decides whether it is JSON-RPC at all.
 */
export function parseLine(line: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    // A cut-off message still names its id, so the request it answers (or asks) is not left waiting.
    const head = line.slice(0, 4096);
    const id = idFromFragments(head, line.slice(-4096));
    const response = id !== null && !/"method"\s*:/.test(head);
    return { ok: false, malformed: { code: ErrorCode.ParseError, id, response, reason: `not JSON: ${(err as Error).message}` } };
  }
  return checkMessage(json);
}

/** Whether a parsed JSON value is one JSON-RPC 2.0 message. */
export function checkMessage(json: unknown): Parsed {
  if (Array.isArray(json)) {
    return {
      ok: false,
      malformed: { code: ErrorCode.InvalidRequest, id: null, response: false, reason: 'JSON-RPC batches are not part of MCP (send one message per line)' },
    };
  }
  const checked = JSONRPCMessageSchema.safeParse(json);
  if (checked.success) return { ok: true, message: json as JSONRPCMessage };
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const id = typeof o.id === 'string' || (typeof o.id === 'number' && Number.isFinite(o.id)) ? (o.id as RequestId) : null;
  const response = typeof o.method !== 'string' && ('result' in o || 'error' in o);
  const issue = checked.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return {
    ok: false,
    malformed: { code: ErrorCode.InvalidRequest, id, response, reason: `not a JSON-RPC 2.0 message${where}: ${issue?.message ?? 'invalid'}` },
  };
}

/** The id of a message whose line was too long to parse, read from its start or end (the SDK writes `id` last). */
export function idFromFragments(head: string, tail: string): RequestId | null {
  const re = /"id"\s*:\s*("(?:[^"\\]|\\.){0,256}"|-?\d{1,16})\s*[,}]/;
  const m = re.exec(head) ?? re.exec(tail);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as RequestId;
  } catch {
    return null;
  }
}

/** A key for a request id in maps: 1 and "1" are different ids. */
export function idKey(id: RequestId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}
