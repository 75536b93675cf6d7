// The answer to an AdmissionReview belay cannot read: in-protocol (a denial
// carrying the uid) when the uid is known, a 400 JSON error otherwise.

import type { Response } from 'express';
import { asBelayError } from '../../src/errors.js';
import { sendError } from '../errors.js';
import { ReviewError } from './codec.js';
import { denied } from './response.js';
import { sendReview } from './send.js';

export function answerMalformed(res: Response, err: unknown): ReviewError {
  const e = err instanceof ReviewError ? err : new ReviewError(asBelayError(err).message);
  if (e.uid) sendReview(res, denied(e.uid, 400, `belay could not read this AdmissionReview: ${e.message}`));
  else sendError(res, e);
  return e;
}
