// Test support: a real OCI registry on 127.0.0.1 (`crane registry serve`,
// go-containerregistry's registry, pinned and built by `make crane`), test
// images made without a daemon (`crane append` of a tiny layer, `crane mutate
// --user`, `crane index append`), and an auth front written here that puts
// the registry behind credentials: Basic, or the Bearer token flow with a
// token service of its own (the registry itself has no auth). Ports come from
// BELAY_REGISTRY_PORTS (default 18900-18999).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CRANE = path.join(root, '.tools/bin/crane');

/** The pinned crane, built with `make crane` when missing; null (and why) when it cannot be built. */
export function craneBinary(): { path: string } | { path: null; why: string } {
  const pinned = /^CRANE_VERSION\s*\?=\s*(\S+)/m.exec(readFileSync(path.join(root, 'Makefile'), 'utf8'))?.[1];
  const stamp = () => (existsSync(`${path.dirname(CRANE)}/.crane.version`) ? readFileSync(`${path.dirname(CRANE)}/.crane.version`, 'utf8').trim() : '');
  if (existsSync(CRANE) && stamp() === pinned) return { path: CRANE };
  try {
    execFileSync('make', ['--no-print-directory', '-C', root, 'crane'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return { path: null, why: `crane could not be built with "make crane": ${(e.stderr?.toString() || e.message).trim().split('\n').slice(-3).join(' ')}` };
  }
  return existsSync(CRANE) ? { path: CRANE } : { path: null, why: `"make crane" did not produce ${CRANE}` };
}

function portRange(): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(process.env.BELAY_REGISTRY_PORTS ?? '18900-18999');
  return m ? [Number(m[1]), Number(m[2])] : [18900, 18999];
}

/** A port of the range nobody listens on; a random start so parallel test files rarely collide. */
async function freePort(): Promise<number> {
  const [lo, hi] = portRange();
  const span = hi - lo + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = lo + ((start + i) % span);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${lo}-${hi}`);
}

export interface Registry {
  /** host:port, as image references name it. */
  readonly host: string;
  stop(): Promise<void>;
}

/** Starts `crane registry serve` on a free loopback port and waits until /v2/ answers. */
export async function startRegistry(crane: string): Promise<Registry> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    // The registry logs every request: to a file, as a pipe would fill (and stall it) while a
    // synchronous crane call blocks this process's event loop.
    const logDir = mkdtempSync(path.join(tmpdir(), 'belay-registry-'));
    const log = openSync(path.join(logDir, 'registry.log'), 'a');
    const child = spawn(crane, ['registry', 'serve', '--address', host], { stdio: ['ignore', 'ignore', log] });
    closeSync(log);
    // A registry never outlives the process that started it.
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async () => {
      process.off('exit', kill);
      await stopChild(child, exited);
      rmSync(logDir, { recursive: true, force: true });
    };
    const up = await waitFor(`http://${host}/v2/`, child, 10_000);
    if (up) return { host, stop };
    const tail = readFileSync(path.join(logDir, 'registry.log'), 'utf8').slice(-2000).trim();
    await stop();
    if (attempt >= 2) throw new Error(`crane registry serve did not start on ${host}: ${tail}`);
  }
}

async function waitFor(url: string, child: ChildProcess, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && child.exitCode === null) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.body?.cancel();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

export interface TestImages {
  /** Docker media types, no User at all. */
  noUser: string;
  /** User "0". */
  root: string;
  /** User "65532" (OCI media types). */
  numeric: string;
  /** User "65532:65532". */
  numericWithGroup: string;
  /** User "nginx". */
  named: string;
  /** An OCI index: linux/amd64 runs as 65532, linux/arm64/v8 as root. */
  multiArch: string;
  /** Pinned by digest (the numeric image). */
  byDigest: string;
  /** The repositories, to reach them again through an auth front. */
  repositories: string[];
}

/** Runs crane against the registry at `host` with a one-file layer at hand; `use` gets the runner and the layer. */
function withCrane<T>(crane: string, use: (run: (...args: string[]) => string, layer: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-images-'));
  try {
    mkdirSync(path.join(dir, 'layer'));
    writeFileSync(path.join(dir, 'layer/hello.txt'), 'a test image layer\n');
    tar.c({ file: path.join(dir, 'layer.tar'), cwd: path.join(dir, 'layer'), sync: true, portable: true }, ['hello.txt']);
    const run = (...args: string[]): string =>
      execFileSync(crane, [...args, '--insecure'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
        .toString()
        .trim();
    return use(run, path.join(dir, 'layer.tar'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pushes one linux/amd64 image per entry, `repository:tag` → the config's
 * User ("" for none, i.e. root), into the registry at `host`; returns the
 * references, keyed like the input.
 */
export function pushImages(crane: string, host: string, users: Record<string, string>): Record<string, string> {
  return withCrane(crane, (run, layer) => {
    run('append', '-f', layer, '-t', `${host}/test/oci-base:1`, '--oci-empty-base');
    const out: Record<string, string> = {};
    for (const [name, user] of Object.entries(users)) {
      const ref = `${host}/${name}`;
      if (user === '') run('append', '-f', layer, '-t', ref);
      else run('mutate', `${host}/test/oci-base:1`, '--user', user, '--set-platform', 'linux/amd64', '-t', ref);
      out[name] = ref;
    }
    return out;
  });
}

/** Pushes the test images into the registry at `host` with crane (no daemon). */
export function makeTestImages(crane: string, host: string): TestImages {
  return withCrane(crane, (run, layer) => {
    run('append', '-f', layer, '-t', `${host}/test/no-user:1`);
    run('append', '-f', layer, '-t', `${host}/test/oci-base:1`, '--oci-empty-base');
    const mutate = (user: string, to: string, platform = 'linux/amd64') =>
      run('mutate', `${host}/test/oci-base:1`, '--user', user, '--set-platform', platform, '-t', `${host}/${to}`);
    mutate('0', 'test/root:1');
    const numeric = mutate('65532', 'test/numeric:1');
    mutate('65532:65532', 'test/numeric-group:1');
    mutate('nginx', 'test/named:1');
    mutate('65532', 'test/multi-amd64:1');
    mutate('0', 'test/multi-arm64:1', 'linux/arm64/v8');
    run('index', 'append', '-m', `${host}/test/multi-amd64:1`, '-m', `${host}/test/multi-arm64:1`, '-t', `${host}/test/multi:1`);
    const digest = numeric.slice(numeric.indexOf('@') + 1);
    return {
      noUser: `${host}/test/no-user:1`,
      root: `${host}/test/root:1`,
      numeric: `${host}/test/numeric:1`,
      numericWithGroup: `${host}/test/numeric-group:1`,
      named: `${host}/test/named:1`,
      multiArch: `${host}/test/multi:1`,
      byDigest: `${host}/test/numeric@${digest}`,
      repositories: ['test/no-user', 'test/root', 'test/numeric', 'test/numeric-group', 'test/named', 'test/multi'],
    };
  });
}

export interface AuthFrontOptions {
  /** The registry behind it (host:port). */
  upstream: string;
  scheme: 'basic' | 'bearer';
  users: Record<string, string>;
  /** Bearer only: a realm to announce instead of the front's own /token (to test realm checks). */
  realm?: string;
}

export interface AuthFront {
  readonly host: string;
  /** Every request seen: path and whether it carried an Authorization header (never its value). */
  readonly seen: { path: string; authorized: boolean }[];
  stop(): Promise<void>;
}

/**
 * A read-only front that demands credentials, then forwards GET/HEAD to the
 * registry. Bearer mode answers 401 with `WWW-Authenticate: Bearer
 * realm=…,service=…,scope=…` and serves /token (Basic auth) with tokens
 * scoped to one repository, as distribution's token auth does.
 */
export async function startAuthFront(options: AuthFrontOptions): Promise<AuthFront> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tokens = new Map<string, string>();
  const seen: { path: string; authorized: boolean }[] = [];
  const basicUser = (header: string | undefined): string | null => {
    const m = /^Basic\s+(.+)$/i.exec(header ?? '');
    if (!m) return null;
    const text = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = text.indexOf(':');
    const [user, pass] = [text.slice(0, i), text.slice(i + 1)];
    return i > 0 && options.users[user] === pass ? user : null;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    seen.push({ path: url.pathname, authorized: req.headers.authorization !== undefined });
    if (url.pathname === '/token' && options.scheme === 'bearer') {
      if (!basicUser(req.headers.authorization)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, url.searchParams.get('scope') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1] ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const ok =
      options.scheme === 'basic' ? basicUser(req.headers.authorization) !== null : bearer !== undefined && tokens.get(bearer) === `repository:${repo}:pull`;
    if (!ok) {
      const challenge =
        options.scheme === 'basic'
          ? 'Basic realm="belay-test"'
          : `Bearer realm="${options.realm ?? `http://${host}/token`}",service="belay-test",scope="repository:${repo}:pull"`;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: Number(options.upstream.split(':')[1]), path: req.url, method: req.method, headers: { accept: req.headers.accept ?? '*/*' } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    host,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
