// The only place that reads request bodies: content type and charset, content
// encoding (identity, gzip, deflate), a size limit on the decoded bytes, the
// shape of the JSON checked chunk by chunk as it arrives (src/util/json-shape.ts)
// and then one JSON.parse — each failing with its own clear error (400, 413,
// 415), never a 500. Nothing is built from a body before its shape is known
// to be within limits, and no single step holds the event loop for more than
// a chunk's worth of scanning beyond the final JSON.parse.

import type { Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Request, RequestHandler } from 'express';
import { BelayError } from '../src/errors.js';
import { DEFAULT_JSON_SHAPE, JsonShapeError, type JsonShapeLimits, JsonShapeScanner } from '../src/util/json-shape.js';

/**
 * 8 MiB by default: the API server's own request limit is 3 MiB for objects,
 * and an AdmissionReview carries up to two of them plus metadata.
 */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export { DEFAULT_JSON_SHAPE, type JsonShapeLimits } from '../src/util/json-shape.js';

/** Compressed encodings a body may come in (the API server sends identity). */
const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
};

export function jsonBody(limit: number = DEFAULT_BODY_LIMIT, shape: JsonShapeLimits = DEFAULT_JSON_SHAPE): RequestHandler[] {
  const readJson: RequestHandler = function readJson(req, res, next) {
    let checked: { decoder: Transform | null };
    try {
      checked = checkHeaders(req, limit);
    } catch (err) {
      refuse(req, res, err as BelayError, next);
      return;
    }
    readBody(req, checked.decoder, limit, shape).then(
      (body) => {
        req.body = body;
        next();
      },
      (err: BelayError) => refuse(req, res, err, next),
    );
  };
  return [readJson];
}

/** Content type, charset, encoding and declared length, before a byte is read. */
function checkHeaders(req: Request, limit: number): { decoder: Transform | null } {
  if (!req.is('application/json') && !req.is('application/*+json')) {
    throw new BelayError('unsupported_media_type', `expected Content-Type application/json, got ${JSON.stringify(req.get('content-type') ?? 'none')}`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new BelayError('unsupported_media_type', `unsupported charset ${JSON.stringify(charset)}: JSON bodies must be UTF-8`);
  }
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase() || 'identity';
  if (encoding !== 'identity' && !Object.hasOwn(DECODERS, encoding)) {
    throw new BelayError(
      'unsupported_media_type',
      `unsupported Content-Encoding ${JSON.stringify(encoding)}: send the body uncompressed, or as gzip or deflate`,
    );
  }
  const declared = Number(req.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  return { decoder: encoding === 'identity' ? null : DECODERS[encoding]!() };
}

/**
 * Reads the body (decoded when compressed), up to `limit` decoded bytes,
 * scanning each chunk's shape as it comes, then parses it.
 */
function readBody(req: Request, decoder: Transform | null, limit: number, shape: JsonShapeLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const source = decoder ?? req;
    const scanner = new JsonShapeScanner(shape);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: BelayError) => {
      if (done) return;
      done = true;
      cleanup();
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit));
      try {
        scanner.push(chunk);
      } catch (err) {
        return fail(shapeError(err));
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (done) return;
      done = true;
      cleanup();
      try {
        resolve(parse(Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err);
      }
    };
    const onDecodeError = (err: Error) => fail(new BelayError('bad_request', `the ${req.get('content-encoding')} body cannot be decoded: ${err.message}`));
    const onAborted = () => fail(new BelayError('bad_request', 'the request body ended before it was complete'));
    const onReqError = (err: Error) => fail(new BelayError('bad_request', `the request body could not be read: ${err.message}`));
    function cleanup(): void {
      source.off('data', onData);
      source.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onReqError);
      if (decoder) decoder.off('error', onDecodeError);
    }
    source.on('data', onData);
    source.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onReqError);
    if (decoder) {
      decoder.on('error', onDecodeError);
      req.pipe(decoder);
    }
  });
}

function parse(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BelayError('bad_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
  // Like body-parser's strict mode: a body is an object or an array, never a bare value.
  if (typeof value !== 'object' || value === null) throw new BelayError('bad_request', 'request body must be a JSON object');
  return value;
}

function tooLarge(limit: number): BelayError {
  return new BelayError('payload_too_large', `request body exceeds the ${limit} byte limit`);
}

function shapeError(err: unknown): BelayError {
  if (!(err instanceof JsonShapeError)) return new BelayError('bad_request', `request body cannot be read: ${(err as Error).message}`);
  const code = err.kind === 'depth' ? 'bad_request' : 'payload_too_large';
  return new BelayError(code, `request body ${err.message}`);
}

/**
 * Hands a refusal to the error handler. The rest of a body that was not read
 * is not worth reading: the connection closes after the answer, so a client
 * still sending is cut off instead of being read to the end.
 */
function refuse(req: Request, res: Parameters<RequestHandler>[1], err: BelayError, next: Parameters<RequestHandler>[2]): void {
  if (!req.complete) {
    res.set('Connection', 'close');
    req.resume();
  }
  next(err);
}
