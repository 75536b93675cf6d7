// MCP's stdio framing: one JSON-RPC message per line, over any pair of
// streams (our own stdin/stdout facing the MCP host, a child process's
// stdout/stdin facing the upstream server). It implements the SDK's
// Transport, like the SDK's stdio transports, but also reports what they drop
// silently: a line that is not JSON or not JSON-RPC (with its id when it had
// one, so the proxy can answer it), and a line longer than the limit, which is
// skipped without being held in memory.

import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { idFromFragments, type JSONRPCMessage, type Malformed, parseLine } from './jsonrpc.js';

/** The longest line read; longer ones are skipped. A tool result of a few MiB fits many times. */
export const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;
/** What is kept of an overlong line: enough of both ends to find its id. */
const FRAGMENT = 4096;

export interface MalformedLine extends Malformed {
  bytes: number;
  oversized: boolean;
}

export interface LineTransportOptions {
  input: Readable;
  output: Writable;
  maxLineBytes?: number;
  /** End `output` on close (a child's stdin: the child sees EOF); leave it open for our own stdout. */
  endOutputOnClose?: boolean;
}

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** A line that was not a message; the transport goes on reading. */
  onmalformed?: (line: MalformedLine) => void;

  readonly #input: Readable;
  readonly #output: Writable;
  readonly #max: number;
  readonly #endOutput: boolean;
  #chunks: Buffer[] = [];
  #length = 0;
  /** While skipping an overlong line: its size so far, its first and last bytes. */
  #skipping: { bytes: number; head: string; tail: string } | null = null;
  #closed = false;
  #started = false;

  constructor(options: LineTransportOptions) {
    this.#input = options.input;
    this.#output = options.output;
    this.#max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#endOutput = options.endOutputOnClose ?? false;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('LineTransport already started');
    this.#started = true;
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
    this.#input.on('error', this.#onStreamError);
    this.#output.on('error', this.#onStreamError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed || this.#output.destroyed || this.#output.writableEnded) throw new Error('the connection is closed');
    const line = `${JSON.stringify(message)}\n`;
    const output = this.#output;
    await new Promise<void>((resolve, reject) => {
      const ok = output.write(line, (err) => (err ? reject(err) : undefined));
      if (ok) return resolve();
      // Backpressure: wait until the reader caught up, or the stream is gone.
      const settle = (err?: Error) => {
        output.off('drain', onDrain);
        output.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(new Error('the connection closed while a message was being written'));
      output.once('drain', onDrain);
      output.once('close', onClose);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.#input.off('error', this.#onStreamError);
    this.#output.off('error', this.#onStreamError);
    this.#input.pause();
    if (this.#endOutput && !this.#output.writableEnded) this.#output.end();
    this.onclose?.();
  }

  readonly #onData = (chunk: Buffer | string): void => {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    while (buf.length > 0 && !this.#closed) {
      const nl = buf.indexOf(0x0a);
      const part = nl === -1 ? buf : buf.subarray(0, nl);
      this.#take(part);
      if (nl === -1) return;
      this.#endLine();
      buf = buf.subarray(nl + 1);
    }
  };

  #take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#skipping) {
      this.#skip(part);
      return;
    }
    if (this.#length + part.length > this.#max) {
      const held = Buffer.concat([...this.#chunks, part]);
      this.#chunks = [];
      this.#length = 0;
      this.#skipping = { bytes: 0, head: held.subarray(0, FRAGMENT).toString('utf8'), tail: '' };
      this.#skip(held);
      return;
    }
    this.#chunks.push(part);
    this.#length += part.length;
  }

  #skip(part: Buffer): void {
    const s = this.#skipping!;
    s.bytes += part.length;
    const tail = part.length >= FRAGMENT ? part.subarray(part.length - FRAGMENT).toString('utf8') : (s.tail + part.toString('utf8')).slice(-FRAGMENT);
    s.tail = tail;
  }

  #endLine(): void {
    if (this.#skipping) {
      const s = this.#skipping;
      this.#skipping = null;
      const id = idFromFragments(s.head, s.tail);
      this.onmalformed?.({
        code: -32600,
        id,
        response: !/"method"\s*:/.test(s.head),
        reason: `a message of ${s.bytes} bytes is over the limit of ${this.#max} bytes`,
        bytes: s.bytes,
        oversized: true,
      });
      return;
    }
    const line = Buffer.concat(this.#chunks).toString('utf8').replace(/\r$/, '');
    const bytes = this.#length;
    this.#chunks = [];
    this.#length = 0;
    if (line.trim() === '') return;
    const parsed = parseLine(line);
    if (parsed.ok) this.onmessage?.(parsed.message);
    else this.onmalformed?.({ ...parsed.malformed, bytes, oversized: false });
  }

  readonly #onEnd = (): void => {
    // A last line without its newline is still a message.
    if (this.#length > 0 || this.#skipping) this.#endLine();
    void this.close();
  };

  readonly #onStreamError = (err: Error): void => {
    this.onerror?.(err);
  };
}
