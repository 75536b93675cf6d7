// Newline-delimited JSON-RPC over streams: messages, what is reported
// instead of dropped (not JSON, not JSON-RPC, batches, overlong lines), and
// writing with backpressure.

import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineTransport, type MalformedLine } from './framing.js';
import type { JSONRPCMessage } from './jsonrpc.js';

function open(maxLineBytes?: number) {
  const input = new PassThrough();
  const output = new PassThrough();
  const t = new LineTransport({ input, output, ...(maxLineBytes ? { maxLineBytes } : {}) });
  const messages: JSONRPCMessage[] = [];
  const malformed: MalformedLine[] = [];
  let closed = false;
  t.onmessage = (m) => messages.push(m);
  t.onmalformed = (m) => malformed.push(m);
  t.onclose = () => (closed = true);
  return { t, input, output, messages, malformed, isClosed: () => closed };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LineTransport', () => {
  it('reads messages split across chunks, CRLF endings, blank lines, and a last line without newline', async () => {
    const s = open();
    await s.t.start();
    s.input.write('{"jsonrpc":"2.0","id":1,"met');
    s.input.write('hod":"ping"}\r\n\n  \n{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    s.input.end('{"jsonrpc":"2.0","id":"a","result":{}}');
    await tick();
    expect(s.messages).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'a', result: {} },
    ]);
    expect(s.malformed).toEqual([]);
    expect(s.isClosed()).toBe(true);
  });

  it('passes params as sent (fields the SDK does not know included), and reports members JSON-RPC does not have', async () => {
    const s = open();
    await s.t.start();
    s.input.write('{"jsonrpc":"2.0","id":1,"method":"x/y","params":{"a":1,"_meta":{"vendor/x":[1]}}}\n');
    s.input.write('{"jsonrpc":"2.0","id":2,"method":"x/y","extension":true}\n');
    await tick();
    expect(s.messages).toEqual([{ jsonrpc: '2.0', id: 1, method: 'x/y', params: { a: 1, _meta: { 'vendor/x': [1] } } }]);
    expect(s.malformed).toEqual([expect.objectContaining({ code: -32600, id: 2 })]);
  });

  it('reports a line that is not JSON as a parse error, with the id it still names, and goes on reading', async () => {
    const s = open();
    await s.t.start();
    s.input.write('{"jsonrpc": "2.0", "id": 1, "method": \n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    s.input.write('{"jsonrpc":"2.0","id":"r-7","result":{"content":[{"type":"text","text":"cut\ngarbage\n');
    await tick();
    expect(s.malformed).toEqual([
      expect.objectContaining({ code: -32700, id: 1, response: false, reason: expect.stringMatching(/^not JSON/) }),
      expect.objectContaining({ code: -32700, id: 'r-7', response: true }),
      expect.objectContaining({ code: -32700, id: null, response: false }),
    ]);
    expect(s.messages).toEqual([{ jsonrpc: '2.0', id: 2, method: 'ping' }]);
  });

  it('reports JSON that is not JSON-RPC as an invalid request, with its id when it had one', async () => {
    const s = open();
    await s.t.start();
    s.input.write('{"jsonrpc":"1.0","id":7,"method":"ping"}\n[{"jsonrpc":"2.0","id":1,"method":"ping"}]\n42\n{"id":"r1","result":{},"jsonrpc":"2"}\n');
    await tick();
    expect(s.malformed.map((m) => [m.code, m.id, m.response])).toEqual([
      [-32600, 7, false],
      [-32600, null, false],
      [-32600, null, false],
      [-32600, 'r1', true],
    ]);
    expect(s.malformed[1]!.reason).toMatch(/batches are not part of MCP/);
  });

  it('skips a line over the limit without holding it, and finds its id at either end', async () => {
    const s = open(1024);
    await s.t.start();
    const big = 'x'.repeat(5000);
    s.input.write(`{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{"p":"${big}`);
    s.input.write(`${big}"}}\n`);
    s.input.write(`{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"${big}"}]},"id":12}\n`);
    s.input.write('{"jsonrpc":"2.0","id":3,"method":"ping"}\n');
    await tick();
    expect(s.malformed.map((m) => [m.id, m.response, m.oversized])).toEqual([
      ['big-1', false, true],
      [12, true, true],
    ]);
    expect(s.malformed[0]!.reason).toMatch(/^a message of 10\d\d\d bytes is over the limit of 1024 bytes$/);
    expect(s.messages).toEqual([{ jsonrpc: '2.0', id: 3, method: 'ping' }]);
  });

  it('writes one line per message and waits for a slow reader', async () => {
    const chunks: string[] = [];
    let release: () => void = () => undefined;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk, _enc, cb) {
        chunks.push(chunk.toString());
        release = cb;
      },
    });
    const t = new LineTransport({ input: new PassThrough(), output: slow });
    await t.start();
    let sent = false;
    const p = t.send({ jsonrpc: '2.0', id: 1, method: 'ping' }).then(() => (sent = true));
    await tick();
    expect(chunks).toEqual(['{"jsonrpc":"2.0","id":1,"method":"ping"}\n']);
    expect(sent).toBe(false);
    release();
    await p;
    expect(sent).toBe(true);
    await t.close();
    await expect(t.send({ jsonrpc: '2.0', id: 2, method: 'ping' })).rejects.toThrow(/closed/);
  });
});
