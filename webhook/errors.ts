// How any face reports a protocol or internal error over HTTP: a JSON body
// `{"error": {"code", "message"}}` with the catalogue's status.

import type { ErrorRequestHandler, Response } from 'express';
import { asBelayError, type BelayError } from '../src/errors.js';
import type { Logger } from '../src/observe/log.js';

export function sendError(res: Response, err: BelayError): void {
  res.status(err.httpStatus).json({ error: { code: err.code, message: err.message } });
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return function handleError(err, req, res, _next) {
    const e = asBelayError(err);
    if (e.httpStatus >= 500) log.error({ err, path: req.path }, 'request failed');
    else
      log.warn(
        { path: req.path, status: e.httpStatus, code: e.code, reason: e.message },
        e.httpStatus === 400 || e.httpStatus === 413 || e.httpStatus === 415 ? 'bad request' : 'request refused',
      );
    if (res.headersSent) return;
    sendError(res, e);
  };
}
