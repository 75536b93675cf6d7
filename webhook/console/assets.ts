// The console page's static files (webhook/console/static), read once at
// start-up and served from memory: a fixed list, so no request path ever
// reaches the file system. Every /console response carries the security
// headers: a Content-Security-Policy that admits only this origin's own
// script, style and API (no inline script, no external fetch, no framing).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import { BelayError } from '../../src/errors.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export interface Asset {
  type: string;
  body: Buffer;
}

/**
 * Beside this module when run from source; from dist/webhook/console the
 * files stay in the source tree (tsc copies no assets).
 */
export function assetDirectory(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'static'), path.resolve(here, '../../../webhook/console/static')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

export function loadAssets(dir: string | undefined = assetDirectory()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!dir) return assets;
  for (const [name, type] of Object.entries(FILES)) {
    const file = path.join(dir, name);
    if (existsSync(file)) assets.set(name, { type, body: readFileSync(file) });
  }
  return assets;
}

export const securityHeaders: RequestHandler = function securityHeaders(_req, res, next) {
  res.set({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  });
  next();
};

/** Serves one asset; missing files (a build without webhook/console/static) are a clear 404. */
export function serveAsset(assets: Map<string, Asset>, name: string): RequestHandler {
  return function sendAsset(_req, res, next) {
    const asset = assets.get(name);
    if (!asset) {
      next(new BelayError('not_found', `the console's ${name} is not installed with this gateway (expected in webhook/console/static)`));
      return;
    }
    // Revalidate every time: the files are small, and a stale script after an upgrade would talk to a changed API.
    res.set('Cache-Control', 'no-cache').type(asset.type).send(asset.body);
  };
}
