// The only place that reads request bodies: a size limit, a content-type
// check and JSON decoding, each failing with its own clear error.

import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { BelayError } from '../src/errors.js';

/**
 * 8 MiB by default: the API server's own request limit is 3 MiB for objects,
 * and an AdmissionReview carries up to two of them plus metadata.
 */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export function jsonBody(limit: number = DEFAULT_BODY_LIMIT): RequestHandler[] {
  const requireJson: RequestHandler = function requireJson(req, _res, next) {
    if (!req.is('application/json') && !req.is('application/*+json')) {
      next(new BelayError('unsupported_media_type', `expected Content-Type application/json, got ${JSON.stringify(req.get('content-type') ?? 'none')}`));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: true, type: () => true })];
}

/** Turns body-parser's errors into catalogue errors; everything else passes on. */
export const bodyErrors: ErrorRequestHandler = function bodyErrors(err, _req, _res, next) {
  const e = err as { type?: string; message?: string; limit?: number };
  if (e.type === 'entity.too.large') {
    next(new BelayError('payload_too_large', `request body exceeds the ${e.limit} byte limit`));
  } else if (e.type === 'entity.parse.failed') {
    next(new BelayError('bad_request', `request body is not valid JSON: ${e.message ?? 'parse error'}`));
  } else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    next(new BelayError('unsupported_media_type', e.message ?? 'unsupported encoding'));
  } else if (e.type === 'request.aborted' || e.type === 'request.size.invalid') {
    next(new BelayError('bad_request', e.message ?? 'request body incomplete'));
  } else {
    next(err);
  }
};
