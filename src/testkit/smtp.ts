// Test support: a real SMTP server on loopback (aiosmtpd, src/testkit/smtp/server.py,
// installed by `make smtp-tools`), optionally requiring a login, writing each
// message it accepts to a directory; and the messages read back.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SMTP_PYTHON = path.join(ROOT, '.tools', 'smtp-venv', 'bin', 'python');
export const HAVE_AIOSMTPD = existsSync(SMTP_PYTHON) && existsSync(path.join(ROOT, '.tools', 'smtp-venv', '.aiosmtpd.version'));
const SERVER = path.join(ROOT, 'src', 'testkit', 'smtp', 'server.py');

export interface SmtpServer {
  port: number;
  dir: string;
  /** The raw messages received so far (RFC 5322 text, the envelope first). */
  messages(): string[];
  close(): Promise<void>;
}

export async function startSmtpServer(o: { user?: string; password?: string } = {}): Promise<SmtpServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-smtp-'));
  const port = await freePort();
  const args = [SERVER, '--port', String(port), '--dir', dir, ...(o.user ? ['--user', o.user, '--password', o.password ?? ''] : [])];
  const child: ChildProcess = spawn(SMTP_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SMTP server did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the SMTP server exited (${code}): ${stderr}`));
    });
  });
  return {
    port,
    dir,
    messages: () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => readFileSync(path.join(dir, f), 'utf8')),
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
