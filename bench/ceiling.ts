// The ceiling of the stack: the same HTTPS server (webhook/server.ts), body
// reader (webhook/body.ts) and answer encoder (webhook/admission/send.ts) as
// belay, with a handler that only parses the AdmissionReview and echoes an
// allow. No policy, no logs. belay cannot be faster than this; the bench
// reports how close it gets.
//
//   node dist/bench/ceiling.js --listen 127.0.0.1:PORT --tls-dir DIR

import express from 'express';
import { silentLogger } from '../src/observe/log.js';
import { tlsPaths } from '../src/tls/devcerts.js';
import { allowed } from '../webhook/admission/response.js';
import { sendReview } from '../webhook/admission/send.js';
import { DEFAULT_BODY_LIMIT, jsonBody } from '../webhook/body.js';
import { serve } from '../webhook/server.js';

interface Review {
  request?: { uid?: unknown };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string => {
    const i = args.indexOf(name);
    const v = i >= 0 ? args[i + 1] : undefined;
    if (!v) throw new Error(`usage: ceiling --listen host:port --tls-dir dir (missing ${name})`);
    return v;
  };
  const [host, port] = arg('--listen').split(':');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/validate', ...jsonBody(DEFAULT_BODY_LIMIT), function echoAllow(req, res) {
    const uid = (req.body as Review).request?.uid;
    if (typeof uid !== 'string') {
      res.status(400).json({ error: { code: 'bad_request', message: 'not an AdmissionReview' } });
      return;
    }
    sendReview(res, allowed(uid));
  });
  const server = await serve(app, { host: host ?? '127.0.0.1', port: Number(port), tls: tlsPaths(arg('--tls-dir')), log: silentLogger });
  process.stdout.write(`ceiling serving ${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`ceiling: ${(err as Error).message}\n`);
  process.exit(1);
});
