// The protocol decoders, fuzzed: AdmissionReview, SubjectAccessReview and the
// agent API's bodies. Whatever comes in, a decoder returns a request or
// throws a BelayError that says what is wrong (a 4xx, never a crash), an
// AdmissionReview error carries the uid when there is one, and what decodes
// is what was sent.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerActor, claimsFrom } from '../src/auth/caller.js';
import { BelayError } from '../src/errors.js';
import { NO_AGENTS } from '../src/identity/agents.js';
import { decodeContext, decodeRequestId, decodeToolCallRequest } from '../src/input/toolcall.js';
import { admissionReview, anyJson, mutate, reviewPath, sarPath, subjectAccessReview, toolCallBody } from '../src/testkit/fuzz/arbitraries.js';
import { decodeReview, ReviewError } from './admission/codec.js';
import { objectBody } from './agent/body.js';
import { decodeSubjectAccessReview } from './authorization/codec.js';

/** Runs `f`; a throw must be a BelayError refusing the input (4xx). */
function decodes<T>(f: () => T): T | BelayError {
  try {
    return f();
  } catch (err) {
    expect(err).toBeInstanceOf(BelayError);
    const e = err as BelayError;
    expect(e.httpStatus).toBeGreaterThanOrEqual(400);
    expect(e.httpStatus).toBeLessThan(500);
    expect(e.message.length).toBeGreaterThan(0);
    return e;
  }
}

describe('AdmissionReview decoding', () => {
  it('decodes what the API server sends, unchanged', () => {
    fc.assert(
      fc.property(admissionReview, ({ review }) => {
        const r = decodeReview(structuredClone(review));
        expect(r).toEqual((review as { request: unknown }).request);
      }),
    );
  });

  it('refuses any field replaced by anything else with a 400 that keeps the uid, or decodes it', () => {
    fc.assert(
      fc.property(admissionReview, reviewPath, fc.oneof(anyJson, fc.constant(undefined)), ({ review }, path, value) => {
        const out = decodes(() => decodeReview(mutate(review, path, value)));
        if (out instanceof BelayError) {
          expect(out).toBeInstanceOf(ReviewError);
          const uid = (mutate(review, path, value) as { request?: { uid?: unknown } })?.request?.uid;
          if (typeof uid === 'string' && uid !== '') expect((out as ReviewError).uid).toBe(uid);
        } else {
          // Whatever decoded has the fields belay relies on.
          expect(typeof out.uid).toBe('string');
          expect(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']).toContain(out.operation);
          expect(typeof out.userInfo.username).toBe('string');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never crashes on arbitrary JSON', () => {
    fc.assert(
      fc.property(anyJson, (v) => void decodes(() => decodeReview(v))),
      { numRuns: 500 },
    );
  });
});

describe('SubjectAccessReview decoding', () => {
  it('decodes what the API server sends, and refuses anything else with a 400', () => {
    fc.assert(
      fc.property(subjectAccessReview, sarPath, fc.oneof(anyJson, fc.constant(undefined)), fc.boolean(), ({ review }, path, value, change) => {
        const sent = change ? mutate(review, path, value) : review;
        const out = decodes(() => decodeSubjectAccessReview(sent));
        if (!change) expect(out).toEqual((review as { spec: unknown }).spec);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(anyJson, (v) => void decodes(() => decodeSubjectAccessReview(v))),
      { numRuns: 300 },
    );
  });
});

describe('agent API bodies', () => {
  it('decode a tool call or refuse it with a 4xx, and never take the caller for someone else', () => {
    fc.assert(
      fc.property(toolCallBody, (body) => {
        const decoded = decodes(() => {
          const b = objectBody(body);
          const request = decodeToolCallRequest(b);
          const actor = callerActor({ username: 'system:serviceaccount:agents:bot', groups: [], extra: {} }, claimsFrom(b), NO_AGENTS);
          return { request, actor };
        });
        if (decoded instanceof BelayError) return;
        expect(decoded.actor.username).toBe('system:serviceaccount:agents:bot');
        expect(typeof decoded.request.tool.name).toBe('string');
        expect(typeof decoded.request.dryRun).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('read context and request ids from anything without crashing', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('context', 'requestId', 'text', 'tool'), anyJson), (body) => {
        decodes(() => decodeContext(body));
        decodes(() => decodeRequestId(body));
        decodes(() => objectBody(body));
      }),
      { numRuns: 500 },
    );
  });
});
