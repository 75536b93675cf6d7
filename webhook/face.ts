// The one way through a face (controller-runtime's webhook.go + http.go
// around Handle, plus InstrumentedHook): decode → handle → send stays per
// face; timing, the crash guard, request counting and the observation
// (metrics, log line, decision record) happen here, once, for every face.
//
// Three kinds of failure stay apart: a request the face cannot read (its
// `refuse`, else the app's error handler: 400/413/415), a refusal the face
// decided on (a BelayError it returns or throws: 401, 403, 404, 409, 503…,
// through the error handler), and a crash (anything else: the face's
// in-protocol fail-closed answer when it has one, else a 500).

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { asBelayError, BelayError } from '../src/errors.js';
import type { Metrics } from '../src/observe/metrics.js';
import { type Instruments, type Observation, observe } from '../src/observe/observe.js';

/** What handling a request produced: an answer to send, or a refusal for the error handler; and what to report. */
export type Handled<Answer> =
  | { readonly answer: Answer; readonly observation: Observation | null }
  | { readonly error: BelayError; readonly observation: Observation | null };

export interface Face<Request_, Answer> {
  /** The face's name in metrics and logs: validate, mutate, authorization, toolcall… */
  readonly name: string;
  /** Reads the request; throws a BelayError when it cannot (the caller's fault). */
  decode(req: Request, res: Response): Request_ | Promise<Request_>;
  /** Decides. Expected to answer every request; a throw is a crash (or a BelayError refusal). */
  handle(request: Request_): Promise<Handled<Answer>>;
  /** Puts the answer on the wire. */
  send(res: Response, answer: Answer): void;
  /** Answers an unreadable request itself (in protocol, e.g. an AdmissionReview with the uid); else the error handler does. */
  refuse?(res: Response, err: BelayError): void;
  /** The fail-closed answer to a crash, in protocol; without it a crash is a 500. */
  crashed?(request: Request_, err: BelayError): Handled<Answer>;
}

export interface FaceInstruments extends Instruments {
  readonly metrics: Metrics;
}

export function serveFace<Request_, Answer>(face: Face<Request_, Answer>, instruments: FaceInstruments): RequestHandler {
  const { metrics, log } = instruments;
  const count = (code: number) => metrics.requests.inc({ face: face.name, code: String(code) });
  return async function serve(req: Request, res: Response, next: NextFunction): Promise<void> {
    const started = process.hrtime.bigint();
    metrics.inFlight.inc();
    res.once('close', () => {
      metrics.inFlight.dec();
      metrics.requestSeconds.observe({ face: face.name, code: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    let request: Request_;
    try {
      request = await face.decode(req, res);
    } catch (err) {
      const e = asBelayError(err, 'bad_request');
      count(e.httpStatus);
      if (face.refuse) {
        log.warn({ face: face.name, reason: e.message }, 'malformed request');
        face.refuse(res, e);
      } else next(e);
      return;
    }
    let handled: Handled<Answer>;
    try {
      handled = await face.handle(request);
    } catch (err) {
      const e = asBelayError(err);
      if (err instanceof BelayError && e.code !== 'internal') {
        handled = { error: e, observation: null };
      } else {
        log.error({ err, face: face.name }, 'face crashed');
        handled = face.crashed ? face.crashed(request, e) : { error: e, observation: null };
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if ('error' in handled) {
      count(handled.error.httpStatus);
      next(handled.error);
    } else {
      face.send(res, handled.answer);
      count(200);
    }
    if (handled.observation) observe(instruments, face.name, handled.observation, seconds);
  };
}

/** A JSON answer with the headers express's res.json sets; `noStore` for answers that change any moment. */
export function sendJson(res: Response, body: unknown, { noStore = false }: { noStore?: boolean } = {}): void {
  if (noStore) res.set('Cache-Control', 'no-store');
  res.json(body);
}
