// The decision log: one JSON line per decision (file or stdout), with what
// `belay replay` needs to ask a candidate bundle the same question — the
// policy input — and what was answered. Secrets are never written in clear:
// Secret values (data, stringData, last-applied), anything under the
// decision's `redact` paths, and every secret the scanner finds in objects,
// prompts, tool results, tool-call arguments and the agent's rationale
// become "[REDACTED]" before the line is written. Each of those is kept as
// a digest of the value as received plus its redacted form within a size
// cap (`recorded` says which, and what was hidden); a value that cannot be
// scanned within bounds is kept as its digest only. A file is bounded in
// size and rotated (decisions.log → .1 → .2 …); when the disk cannot keep
// up, records are dropped and counted rather than held without bound.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Decision, JsonObject, PatchOperation, PolicyInput } from '../contract/index.js';
import { storedToolCall } from '../redact/arguments.js';
import type { ContentFormat, ContentStatus } from '../redact/content.js';
import { parsePointer } from '../redact/pointer.js';
import { type RecordedValue, recordValue } from '../redact/record.js';
import { secretValuePaths } from '../redact/secrets.js';
import { redactText } from '../scan/index.js';
import { canonicalDigest, canonicalJson } from '../util/canonical.js';
import type { DecisionForwarder, DecisionRecord, DecisionSink } from './decisions.js';

export const REDACTED = '[REDACTED]';

/** One line of the log, as written. */
export interface LoggedDecision {
  time: string;
  /** decision (a face answered), approval (an event in an approval's life) or outcome (a watched change ended). */
  kind: DecisionRecord['kind'];
  face: DecisionRecord['face'];
  id: string;
  revision: string;
  actor: DecisionRecord['actor'];
  request: DecisionRecord['request'];
  /** sha256 of the input as logged (canonical JSON, keys sorted). */
  inputDigest: string | null;
  /** The outcome: allow, deny, defer, fix, skip, error… */
  verdict: string;
  rules: string[];
  reasons: Decision['reasons'];
  /** The patch sent (fixes applied), values of secret fields redacted. */
  fixesApplied: PatchOperation[] | null;
  /** The policy's own decision document, redacted like the input. */
  policy: Decision | null;
  approvalId: string | null;
  latencyMs: number;
  /** The policy input, redacted; a field too large or unscannable is null here and described in `recorded`. */
  input: PolicyInput | null;
  /** What was kept of each content-bearing input field (object, oldObject, content, tool.arguments). */
  recorded: Record<string, RecordedField>;
  /** Set when the input (and the policy's document) could not be redacted and were left out: why. */
  inputOmitted?: string;
  /** Kind outcome: what became of the change (evidence is pod states and counts, never object content). */
  outcome?: DecisionRecord['outcome'];
}

/** What the log kept of one input field: never the value, only its digest, its fate and what was hidden. */
export interface RecordedField {
  /** sha256 of the value as received (canonical JSON). */
  digest: string;
  /** ok, or why only the digest was kept (timeout, too-large, too-deep, too-many-findings). */
  status: ContentStatus;
  format: ContentFormat;
  /** The redacted form was over the cap: the input field is null and `excerpt` holds its start. */
  truncated: boolean;
  excerpt?: string;
  /** What was hidden and where (pointer, kind, rule), without the values. */
  redactions: RecordedValue['redactions'];
}

/** Largest redacted object (admission) kept whole, in bytes of its JSON; replay needs objects whole. */
export const LOGGED_OBJECT_BYTES = 1024 * 1024;
/** Largest redacted prompt or tool result kept whole. */
export const LOGGED_CONTENT_BYTES = 64 * 1024;
const EXCERPT_BYTES = 4 * 1024;
/** Findings kept per record (policy's, for replay); a replay of a record with more sees the first ones. */
const MAX_FINDINGS_LOGGED = 1000;

export interface DecisionLogOptions {
  /** A file path, "-" for stdout, or a stream; null writes no lines (only `forward` gets the records). */
  destination: string | NodeJS.WritableStream | null;
  /** Also handed every redacted record, in order (the shipper's spool). */
  forward?: DecisionForwarder<LoggedDecision>;
  /** Called for each record dropped because the queue was full. */
  onDrop?: () => void;
  /** Rotate when the file would grow past this (bytes). */
  maxBytes?: number;
  /** Rotated files kept beside the live one. */
  maxFiles?: number;
  /** Records waiting to be written before new ones are dropped. */
  maxQueue?: number;
  onError?: (err: unknown) => void;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function clone<T>(v: T): T {
  return v === undefined || v === null ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Sets the value at `pointer` in `doc` to REDACTED when it is there. */
function redactAt(doc: unknown, pointer: string): boolean {
  let segments: string[];
  try {
    segments = parsePointer(pointer);
  } catch {
    return false;
  }
  if (segments.length === 0) return false;
  let node: unknown = doc;
  for (const seg of segments.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[seg];
  }
  const last = segments[segments.length - 1]!;
  if (typeof node !== 'object' || node === null || !(last in (node as object))) return false;
  (node as Record<string, unknown>)[last] = REDACTED;
  return true;
}

function redactSecretsIn(doc: unknown, extraPointers: readonly string[]): string[] {
  const pointers = [...secretValuePaths(doc).map((p) => p.pointer), ...extraPointers];
  for (const p of pointers) redactAt(doc, p);
  return pointers;
}

/** Patch operations whose value lands on a redacted path carry REDACTED instead. */
function redactPatch(ops: readonly PatchOperation[] | null | undefined, redacted: readonly string[]): PatchOperation[] | null {
  if (!ops) return null;
  return ops.map((op) => {
    if (op.value === undefined) return { ...op };
    const hit = redacted.some((p) => op.path === p || op.path.startsWith(`${p}/`) || p.startsWith(`${op.path}/`));
    return hit ? { ...op, value: REDACTED } : { ...op, value: clone(op.value) };
  });
}

/**
 * Keeps `value` (already stripped of what pointers name) in its redacted
 * form when it can be scanned and fits `maxBytes`; else null. `digest` is of
 * the value as received.
 */
function keep(value: unknown, digest: string, maxBytes: number): { value: unknown; field: RecordedField } {
  const r = recordValue(value, { maxBytes });
  const field: RecordedField = { digest, status: r.status, format: r.format, truncated: r.truncated, redactions: r.redactions };
  if (r.status !== 'ok') return { value: null, field };
  if (r.truncated) {
    const text = String(r.redacted);
    return {
      value: null,
      field: {
        ...field,
        excerpt: Buffer.from(text)
          .subarray(0, EXCERPT_BYTES)
          .toString('utf8')
          .replace(/\uFFFD$/, ''),
      },
    };
  }
  return { value: r.redacted, field };
}

/** The line for `entry`, with every secret redacted. */
export async function redactRecord(entry: DecisionRecord): Promise<LoggedDecision> {
  const input = clone(entry.input);
  const policyPaths = entry.decision?.redact ?? [];
  const redacted: string[] = [];
  const recorded: Record<string, RecordedField> = {};
  if (input) {
    for (const field of ['object', 'oldObject'] as const) {
      if (!input[field]) continue;
      const digest = canonicalDigest(input[field]);
      redacted.push(...redactSecretsIn(input[field], policyPaths));
      const kept = keep(input[field], digest, LOGGED_OBJECT_BYTES);
      input[field] = kept.value as JsonObject | null;
      recorded[field] = kept.field;
    }
    const content = input.content as JsonObject | null;
    if (content && Array.isArray(content.findings)) content.findings = content.findings.slice(0, MAX_FINDINGS_LOGGED);
    if (content && 'value' in content) {
      // A tool result: policy read it whole; the log keeps it redacted.
      const digest = typeof content.digest === 'string' ? content.digest : canonicalDigest(content.value);
      redactSecretsIn(content.value, policyPaths);
      const kept = keep(content.value, digest, LOGGED_CONTENT_BYTES);
      content.value = kept.value as never;
      recorded.content = kept.field;
    } else if (content && 'text' in content) {
      // A prompt: policy saw it redacted already; scanned again all the same.
      const digest = typeof content.digest === 'string' ? content.digest : canonicalDigest(content.text);
      const kept = keep(content.text ?? '', digest, LOGGED_CONTENT_BYTES);
      content.text = content.text === null ? null : (kept.value as never);
      recorded.content = kept.field;
    }
    // Tool arguments may carry a manifest (a Secret to create), a password, a token.
    if (input.tool && typeof input.tool === 'object') {
      const tool = input.tool as JsonObject;
      const stored = storedToolCall(tool);
      // What the scan found stays beside the redacted arguments, for replay (findings hold no values).
      input.tool = {
        ...stored,
        ...(Array.isArray(tool.findings) ? { findings: tool.findings.slice(0, MAX_FINDINGS_LOGGED) } : {}),
        ...(tool.scanStatus !== undefined ? { scanStatus: tool.scanStatus, scanMessage: tool.scanMessage ?? null } : {}),
      };
      recorded['tool.arguments'] = {
        digest: stored.argumentsDigest,
        status: (stored.argumentsStatus as ContentStatus | undefined) ?? 'ok',
        format: 'json',
        truncated: typeof stored.argumentsExcerpt === 'string',
        redactions: (stored.redactions as unknown as RecordedValue['redactions'] | undefined) ?? [],
      };
    }
    // The agent's own words may quote a secret too.
    if (typeof input.context?.rationale === 'string') {
      const r = redactText(input.context.rationale);
      input.context.rationale = r.status === 'ok' ? r.redacted : REDACTED;
    }
  }
  const policy = clone(entry.decision);
  if (policy) policy.fixes = redactPatch(policy.fixes, redacted) ?? [];
  return {
    ...summaryOf(entry),
    inputDigest: input ? `sha256:${createHash('sha256').update(canonicalJson(input)).digest('hex')}` : null,
    reasons: policy?.reasons ?? [],
    fixesApplied: redactPatch(entry.patch, redacted),
    policy,
    input: input as PolicyInput | null,
    recorded,
  };
}

/** What every line says of its entry, the input and the policy's document aside. */
function summaryOf(entry: DecisionRecord): Omit<LoggedDecision, 'inputDigest' | 'reasons' | 'fixesApplied' | 'policy' | 'input' | 'recorded' | 'inputOmitted'> {
  return {
    time: entry.time,
    kind: entry.kind,
    face: entry.face,
    id: entry.id,
    revision: entry.revision,
    actor: entry.actor,
    request: entry.request,
    verdict: entry.verdict,
    rules: entry.rules,
    approvalId: entry.approvalId,
    latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
    ...(entry.outcome ? { outcome: entry.outcome } : {}),
  };
}

/**
 * The line for an entry whose input could not be redacted (or written): what
 * was decided and about whom, with the input and the policy's document left
 * out — nothing unredacted is ever written.
 */
export function withoutInput(entry: DecisionRecord, err: unknown): LoggedDecision {
  return {
    ...summaryOf(entry),
    inputDigest: null,
    reasons: (entry.decision?.reasons ?? []).map((r) => ({ rule: r.rule, message: r.message, severity: r.severity })),
    fixesApplied: null,
    policy: null,
    input: null,
    recorded: {},
    inputOmitted: `the input could not be redacted for the log: ${err instanceof Error ? err.message : String(err)}`.slice(0, 512),
  };
}

/** Writes JSON lines in the background; `record` never blocks a request. */
export class DecisionLog implements DecisionSink {
  readonly #options: Required<Omit<DecisionLogOptions, 'onError' | 'destination' | 'forward' | 'onDrop'>> &
    Pick<DecisionLogOptions, 'onError' | 'forward' | 'onDrop'>;
  readonly #file: string | null;
  readonly #stream: NodeJS.WritableStream | null;
  #fd: number | null = null;
  #size = 0;
  #queue: DecisionRecord[] = [];
  #draining: Promise<void> | null = null;
  #dropped = 0;
  #written = 0;
  #closed = false;

  constructor({ destination, maxBytes = 100 * 1024 * 1024, maxFiles = 5, maxQueue = 10_000, onError, forward, onDrop }: DecisionLogOptions) {
    this.#options = { maxBytes, maxFiles, maxQueue, onError, forward, onDrop };
    if (destination === null) {
      this.#file = null;
      this.#stream = null;
    } else if (typeof destination === 'string' && destination !== '-') {
      this.#file = destination;
      this.#stream = null;
      this.#open();
    } else {
      this.#file = null;
      this.#stream = typeof destination === 'string' ? process.stdout : destination;
    }
  }

  /** Records not written because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  get written(): number {
    return this.#written;
  }

  record(entry: DecisionRecord): void {
    if (this.#closed) return;
    // Nothing is serialised here: the request that recorded this is still being answered.
    if (this.#queue.length >= this.#options.maxQueue) {
      this.#dropped++;
      this.#options.onDrop?.();
      return;
    }
    this.#queue.push(entry);
    this.#draining ??= this.#drain();
  }

  /** Resolves when everything recorded so far is written. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
    await this.#options.forward?.close();
  }

  async #drain(): Promise<void> {
    // Let the request that recorded this finish first.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, 256);
        const logged: LoggedDecision[] = [];
        for (const entry of batch) {
          try {
            logged.push(await redactRecord(entry));
          } catch (err) {
            // Every decision is on record whatever its input's shape: without the input, if that is what failed.
            this.#options.onError?.(err);
            logged.push(withoutInput(entry, err));
          }
        }
        // The spool first: a shipped record survives a kill from here on.
        try {
          this.#options.forward?.forward(logged);
        } catch (err) {
          this.#options.onError?.(err);
        }
        await this.#write(logged.map((l) => `${JSON.stringify(l)}\n`));
      }
    } catch (err) {
      this.#options.onError?.(err);
    } finally {
      this.#draining = null;
      if (this.#queue.length > 0 && !this.#closed) this.#draining = this.#drain();
    }
  }

  async #write(lines: string[]): Promise<void> {
    if (this.#stream === null && this.#file === null) {
      this.#written += lines.length;
      return;
    }
    if (this.#stream) {
      const text = lines.join('');
      if (text) await new Promise<void>((resolve) => (this.#stream!.write(text) ? resolve() : this.#stream!.once('drain', () => resolve())));
      this.#written += lines.length;
      return;
    }
    for (const line of lines) {
      const bytes = Buffer.from(line);
      if (this.#size > 0 && this.#size + bytes.length > this.#options.maxBytes) await this.#rotate();
      writeSync(this.#fd!, bytes);
      this.#size += bytes.length;
      this.#written++;
    }
  }

  #open(): void {
    this.#fd = openSync(this.#file!, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  /** decisions.log → decisions.log.1 → … → decisions.log.<maxFiles>, the oldest removed. */
  async #rotate(): Promise<void> {
    closeSync(this.#fd!);
    this.#fd = null;
    const file = this.#file!;
    await rm(`${file}.${this.#options.maxFiles}`, { force: true });
    for (let i = this.#options.maxFiles - 1; i >= 1; i--) {
      await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
    }
    if (this.#options.maxFiles > 0) await rename(file, `${file}.1`);
    else await rm(file, { force: true });
    this.#open();
  }
}

/** Reads a decision log back: one LoggedDecision per non-empty line; bad lines are reported with their number. */
export function parseDecisionLog(text: string): { entries: LoggedDecision[]; errors: { line: number; message: string }[] } {
  const entries: LoggedDecision[] = [];
  const errors: { line: number; message: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line) as Json;
      if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v.face !== 'string') throw new Error('not a decision record');
      entries.push(v as unknown as LoggedDecision);
    } catch (err) {
      errors.push({ line: i + 1, message: (err as Error).message });
    }
  });
  return { entries, errors };
}
