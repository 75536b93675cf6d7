// The container image's contents, tested without a container engine. The
// tree manifests/image/assemble.sh builds — what the Containerfile's runtime stage adds
// to its base — is assembled here, and the gateway is started from it the way
// the image runs it: the Containerfile's ENV, WORKDIR, USER, ENTRYPOINT and
// CMD, as uid 65532, with the tree owned by root and the root filesystem
// read-only (a private mount namespace) except one temp dir standing in for
// the pod's /tmp emptyDir. /readyz must answer; the CLI must work through the
// same entrypoint; no dev dependency may be in the tree; nothing may be
// written outside the temp dir.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const UID = 65532;
const PORT = Number(process.env.BELAY_IMAGE_TEST_PORT ?? 18801);
const isRoot = process.getuid?.() === 0;

interface Stage {
  name?: string;
  lines: string[];
}

/** The Containerfile's stages, instructions joined across line continuations. */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ ...(from[1] ? { name: from[1] } : {}), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

function instruction(stage: Stage, name: string): string[] {
  return stage.lines.filter((l) => l.toUpperCase().startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
}

const containerfile = stages(readFileSync(path.join(root, 'Containerfile'), 'utf8'));
const runtime = containerfile.at(-1)!;
const env = Object.fromEntries(instruction(runtime, 'ENV').flatMap((l) => [...l.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
const entrypoint = JSON.parse(instruction(runtime, 'ENTRYPOINT')[0] ?? '[]') as string[];
const cmd = JSON.parse(instruction(runtime, 'CMD')[0] ?? '[]') as string[];

describe('the Containerfile and make image-root', () => {
  it('build the same tree: the runtime stage copies only what manifests/image/assemble.sh assembled', () => {
    const build = containerfile.find((s) => s.name === 'build');
    expect(instruction(build!, 'RUN')).toContain('bash manifests/image/assemble.sh /rootfs');
    expect(instruction(runtime, 'COPY')).toEqual(['--from=build /rootfs/ /']);
    expect(instruction(runtime, 'RUN')).toEqual([]);
    expect(instruction(runtime, 'ADD')).toEqual([]);
    const makefile = readFileSync(path.join(root, 'Makefile'), 'utf8');
    const recipe = /^image-root:.*\n((?:\t.*\n)+)/m.exec(makefile)?.[1] ?? '';
    expect(recipe).toContain('bash manifests/image/assemble.sh $(BUILD)/image-root');
  });

  it('run belay as uid 65532 from /opt/belay, writing only under /tmp', () => {
    expect(instruction(runtime, 'USER')).toEqual([`${UID}:${UID}`]);
    expect(entrypoint).toEqual(['belay']);
    expect(cmd[0]).toBe('serve');
    expect(instruction(runtime, 'WORKDIR')).toEqual(['/opt/belay']);
    for (const [k, v] of Object.entries(env)) {
      if (v.startsWith('/')) expect(v.startsWith('/tmp') || v.startsWith('/opt/belay/'), `${k}=${v}`).toBe(true);
    }
  });
});

describe('the image tree', () => {
  let work: string;
  let rootfs: string;
  let app: string;

  beforeAll(() => {
    for (const need of ['dist/webhook/main.js', '.build/bundle.tar.gz']) {
      if (!existsSync(path.join(root, need))) throw new Error(`${need} is missing: run make build bundle first`);
    }
    work = mkdtempSync(path.join(tmpdir(), 'belay-image-'));
    chmodSync(work, 0o755); // the image's /opt is reachable for every user
    rootfs = path.join(work, 'rootfs');
    app = path.join(rootfs, 'opt', 'belay');
    const r = spawnSync('bash', ['manifests/image/assemble.sh', rootfs], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`manifests/image/assemble.sh failed:\n${r.stdout}${r.stderr}`);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('holds dist/, production node_modules, the console files and the default bundle, and nothing else', () => {
    expect(readdirSync(rootfs).sort()).toEqual(['opt', 'usr']);
    expect(readdirSync(app).sort()).toEqual(['bundle', 'dist', 'node_modules', 'package-lock.json', 'package.json', 'webhook']);
    expect(readdirSync(path.join(app, 'dist')).sort()).toEqual(['src', 'webhook']);
    expect(readdirSync(path.join(app, 'bundle'))).toEqual(['bundle.tar.gz']);
    expect(readFileSync(path.join(app, 'bundle', 'bundle.tar.gz'))).toEqual(readFileSync(path.join(root, '.build', 'bundle.tar.gz')));
    expect(readdirSync(path.join(app, 'webhook', 'console', 'static')).sort()).toEqual(['console.css', 'console.js', 'favicon.svg', 'index.html']);
    expect(lstatSync(path.join(rootfs, 'usr', 'local', 'bin', 'belay')).isSymbolicLink()).toBe(true);
    const compiled = walk(path.join(app, 'dist'));
    expect(compiled.length).toBeGreaterThan(50);
    expect(compiled.filter((f) => !f.endsWith('.js') || f.endsWith('.test.js'))).toEqual([]);

    // Every production dependency; no package the lock marks dev-only (typescript,
    // vitest, tsx, biome, … and what only they pull in).
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: object };
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(path.join(app, 'node_modules', dep)), dep).toBe(true);
    const devOnly = Object.entries(lock.packages).filter(([where, p]) => where && p.dev);
    expect(devOnly.length).toBeGreaterThan(10);
    expect(devOnly.map(([where]) => where).filter((where) => existsSync(path.join(app, where)))).toEqual([]);
  });

  it('is owned by root and writable by no one else', () => {
    for (const f of [rootfs, ...walk(rootfs, true)]) {
      const st = lstatSync(f);
      if (st.isSymbolicLink()) continue;
      expect(st.uid, f).toBe(0);
      expect(st.mode & 0o022, f).toBe(0);
    }
  });

  // Switching to uid 65532 needs root; as anyone else these tests are skipped.
  describe('run as uid 65532', () => {
    let scratch: string;
    let gateway: ChildProcess | undefined;
    let output = '';
    let readOnlyRoot = false;
    const started = new Date();

    /** The image's paths on this host: /opt/belay is the tree, /tmp the scratch dir. */
    const hostPath = (p: string) =>
      p.startsWith('/opt/belay') ? app + p.slice('/opt/belay'.length) : p.startsWith('/tmp') ? path.join(scratch, 'tmp') + p.slice('/tmp'.length) : p;

    function command(args: string[]): { file: string; argv: string[]; env: NodeJS.ProcessEnv } {
      const childEnv: NodeJS.ProcessEnv = {
        PATH: [path.join(rootfs, 'usr', 'local', 'bin'), path.dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, hostPath(v)])),
        TMPDIR: path.join(scratch, 'tmp'),
      };
      const run = ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--', ...entrypoint, ...args];
      // A private mount namespace: the whole root filesystem read-only but the scratch dir.
      const script = readOnlyRoot ? 'mount --bind "$0" "$0" && mount -o remount,bind,ro / && exec "$@"' : 'exec "$@"';
      return { file: 'unshare', argv: ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, scratch, ...run], env: childEnv };
    }

    beforeAll(async () => {
      if (!isRoot) return;
      scratch = mkdtempSync(path.join(tmpdir(), 'belay-image-run-'));
      mkdirSync(path.join(scratch, 'tmp'));
      chownSync(scratch, UID, UID);
      chownSync(path.join(scratch, 'tmp'), UID, UID);
      const probe = spawnSync(
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -o remount,bind,ro / && ! touch /.belay-ro-probe 2>/dev/null'],
        {
          encoding: 'utf8',
        },
      );
      readOnlyRoot = probe.status === 0;
      if (!readOnlyRoot) process.stderr.write(`image test: no private mount namespace here (${probe.stderr.trim()}); the root stays writable for root only\n`);

      const listen = cmd.map((a) => (a === '0.0.0.0:8443' ? `127.0.0.1:${PORT}` : a));
      expect(listen).toContain(`127.0.0.1:${PORT}`);
      // Not in a pod: the gateway runs without a cluster only when told (--local).
      const c = command([...listen, '--local']);
      gateway = spawn(c.file, c.argv, { cwd: app, env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
      gateway.stdout?.on('data', (b: Buffer) => {
        output += b.toString();
      });
      gateway.stderr?.on('data', (b: Buffer) => {
        output += b.toString();
      });
    }, 30_000);

    afterAll(async () => {
      if (gateway && gateway.exitCode === null) {
        gateway.kill('SIGTERM');
        await new Promise((r) => gateway?.once('exit', r));
      }
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }, 30_000);

    it.skipIf(!isRoot)(
      'serves /readyz with the default bundle (on a read-only root where mount namespaces allow)',
      async () => {
        const ca = path.join(hostPath(env.BELAY_TLS_DIR ?? '/tmp/belay/tls'), 'ca.crt');
        const body = await waitForReady(
          ca,
          () => gateway?.exitCode ?? null,
          () => output,
        );
        expect(body.ready).toBe(true);
        expect(body.source).toContain(path.join(app, 'bundle', 'bundle.tar.gz'));
        // unshare, sh and setpriv exec into one another: the gateway keeps the child's pid.
        const ps = readFileSync(`/proc/${gateway?.pid}/status`, 'utf8');
        expect(ps).toMatch(new RegExp(`^Uid:\\s+${UID}\\s+${UID}`, 'm'));
      },
      60_000,
    );

    it.skipIf(!isRoot)('answers the CLI through the same entrypoint (belay approvals list)', () => {
      const c = command(['approvals', 'list']);
      const r = spawnSync(c.file, c.argv, { cwd: app, env: c.env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    });

    it.skipIf(!isRoot)('wrote nothing outside its scratch dir', () => {
      // The tree is as assembled (nothing written into it), and no file in any
      // place uid 65532 could write to belongs to it, except in the scratch dir.
      for (const f of walk(rootfs, true)) expect(lstatSync(f).uid, f).toBe(0);
      const writable = ['/tmp', '/var/tmp', '/dev/shm'].filter((d) => existsSync(d));
      const r = spawnSync('find', [...writable, '-xdev', '-path', scratch, '-prune', '-o', '-user', String(UID), '-newermt', started.toISOString(), '-print'], {
        encoding: 'utf8',
      });
      expect(r.stdout.trim()).toBe('');
      const written = walk(scratch, true).map((f) => path.relative(scratch, f));
      expect(written).toEqual(expect.arrayContaining([path.join('tmp', 'belay', 'tls', 'tls.crt'), path.join('tmp', 'belay', 'state')]));
    });
  });
});

/** Files under dir (and directories too with dirs=true). */
function walk(dir: string, dirs = false): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (dirs) out.push(p);
      out.push(...walk(p, dirs));
    } else out.push(p);
  }
  return out;
}

async function waitForReady(
  caFile: string,
  exited: () => number | null,
  output: () => string,
): Promise<{ ready: boolean; source: string; revision: string | null }> {
  const deadline = Date.now() + 45_000;
  let last = '';
  while (Date.now() < deadline) {
    if (exited() !== null) throw new Error(`the gateway exited (${exited()}):\n${output()}`);
    if (existsSync(caFile) && statSync(caFile).size > 0) {
      try {
        const { status, body } = await get(`https://127.0.0.1:${PORT}/readyz`, readFileSync(caFile));
        if (status === 200) return JSON.parse(body);
        last = `${status} ${body}`;
      } catch (err) {
        last = String(err);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`/readyz not ready within 45s (${last}):\n${output()}`);
}

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
