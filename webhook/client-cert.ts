// Only the API server speaks to the webhooks: when the gateway is given the
// CA that signs the API server's client certificate (--webhook-client-ca),
// the admission, approvals-webhook and authorization faces answer only a
// caller that presented a certificate from that CA, with one of the allowed
// names (--webhook-client-name) as its common name or a DNS name. The agent
// API and the console share the listener and keep their bearer tokens, so
// the TLS layer only asks for a certificate (server.ts) and each face checks
// it here, before any body is read. Without the option every caller is
// unverified, and the faces say so to the approval lifecycle, which then
// never lets such a caller use an approval up on its word alone (gate.ts).

import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import type { Caller } from '../src/approvals/gate.js';
import { BelayError } from '../src/errors.js';

export interface WebhookClients {
  /** Common names or DNS names the API server's certificate may carry; empty: any certificate from the CA. */
  readonly names: readonly string[];
}

interface CallerLocals {
  caller?: Caller;
}

/** Refuses a caller that is not the API server (when verification is on); records who called otherwise. */
export function apiServerOnly(clients: WebhookClients | undefined): RequestHandler {
  return function checkClient(req, res, next) {
    if (!clients) {
      (res.locals as CallerLocals).caller = 'unverified';
      next();
      return;
    }
    const socket = req.socket as Partial<TLSSocket>;
    const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const presented = cert !== undefined && Object.keys(cert).length > 0;
    if (!presented || socket.authorized !== true) {
      const why = presented
        ? `its client certificate is not from the configured CA (${String(socket.authorizationError ?? 'unverified')})`
        : 'it presented no client certificate';
      next(new BelayError('unauthorized', `only the Kubernetes API server may call ${req.path}, and ${why}`));
      return;
    }
    const names = [cert.subject?.CN, ...dnsNames(cert.subjectaltname)].filter((n): n is string => typeof n === 'string' && n !== '');
    if (clients.names.length > 0 && !names.some((n) => clients.names.includes(n))) {
      next(
        new BelayError(
          'forbidden',
          `only the Kubernetes API server may call ${req.path}: the client certificate of ${JSON.stringify(names[0] ?? '')} is not one of ${clients.names.join(', ')}`,
        ),
      );
      return;
    }
    (res.locals as CallerLocals).caller = 'apiserver';
    next();
  };
}

/** Who called, as apiServerOnly found it (unverified when it did not run). */
export function callerOf(res: { locals: Record<string, unknown> }): Caller {
  return (res.locals as CallerLocals).caller ?? 'unverified';
}

function dnsNames(subjectaltname: string | undefined): string[] {
  return (subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}
