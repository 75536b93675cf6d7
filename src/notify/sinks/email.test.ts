// The email sink against a real SMTP server on loopback (aiosmtpd, `make
// smtp-tools`): a login with credentials read from files, a plain-text and an
// HTML part with everything escaped, the event id as the Message-ID; bad
// credentials found by the start-up check and read as misconfigured.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../approvals/fingerprint.js';
import { newApprovalRequest } from '../../approvals/record.js';
import { deferred, deployment } from '../../testkit/approval-requests.js';
import { HAVE_AIOSMTPD, SMTP_PYTHON, type SmtpServer, startSmtpServer } from '../../testkit/smtp.js';
import type { EmailChannel } from '../config.js';
import { eventId } from '../events.js';
import { notificationOf } from '../view.js';
import { emailMessage, emailSink } from './email.js';

if (!HAVE_AIOSMTPD) console.warn(`email.test.ts skipped: ${SMTP_PYTHON} is missing (make smtp-tools installs aiosmtpd)`);

const NOW = new Date('2026-12-06T10:00:00Z');
const HOSTILE = '<script>alert(1)</script> & "quotes"';

function notification() {
  const req = deferred('u1', deployment(3));
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: NOW });
  const rec = { ...r, metadata: { ...r.metadata, uid: 'uid-1', creationTimestamp: NOW.toISOString() }, status: { phase: 'Pending' as const } };
  rec.spec.context = { ...rec.spec.context, rationale: HOSTILE };
  return notificationOf(rec, 'requested', eventId(rec, 'requested'), NOW.getTime(), { consoleUrl: 'https://belay.example/console/', now: NOW });
}

describe.skipIf(!HAVE_AIOSMTPD)('email sink over SMTP (aiosmtpd)', () => {
  let smtp: SmtpServer;
  let dir: string;
  let channel: EmailChannel;
  beforeAll(async () => {
    smtp = await startSmtpServer({ user: 'belay', password: 's3cret-pass' });
    dir = mkdtempSync(path.join(tmpdir(), 'belay-email-'));
    writeFileSync(path.join(dir, 'user'), 'belay\n');
    writeFileSync(path.join(dir, 'pass'), 's3cret-pass\n');
    writeFileSync(path.join(dir, 'wrong'), 'nope\n');
    channel = {
      name: 'mail',
      type: 'email',
      host: '127.0.0.1',
      port: smtp.port,
      security: 'none',
      username: { file: path.join(dir, 'user') },
      password: { file: path.join(dir, 'pass') },
      from: 'belay@example.com',
      to: ['oncall@example.com', 'dana@example.com'],
      timeoutMs: 5_000,
    };
  }, 30_000);
  afterAll(async () => {
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in and delivers a plain-text and an HTML part, the event id as Message-ID', async () => {
    const sink = emailSink(channel);
    expect(await sink.check!(AbortSignal.timeout(5_000))).toBeNull();
    await sink.send(notification(), AbortSignal.timeout(10_000));
    const [raw] = smtp.messages();
    expect(raw).toContain('X-Envelope-From: belay@example.com');
    expect(raw).toContain('X-Envelope-To: oncall@example.com, dana@example.com');
    expect(raw).toMatch(/^Subject: \[belay\] Approval needed: CREATE Deployment prod\/web$/m);
    expect(raw).toMatch(/^Message-ID: <uid-1.requested@belay.dev>$/m);
    expect(raw).toMatch(/^X-Belay-Event: requested$/m);
    expect(raw).toContain('Content-Type: text/plain');
    expect(raw).toContain('Content-Type: text/html');
  });

  it('escapes every string from the request in the HTML part', () => {
    const m = emailMessage(notification());
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(m.text).toContain(`Rationale: ${HOSTILE}`);
    expect(m.text).toContain('Review it: https://belay.example/console/#prod/');
  });

  it('finds bad credentials at start-up, and reads them as misconfigured when sending', async () => {
    const bad = emailSink({ ...channel, password: { file: path.join(dir, 'wrong') } });
    expect(await bad.check!(AbortSignal.timeout(5_000))).toMatch(/^SMTP 127\.0\.0\.1:\d+: .*(535|[Aa]uthentication)/);
    await expect(bad.send(notification(), AbortSignal.timeout(10_000))).rejects.toMatchObject({ kind: 'misconfigured' });
    const nobody = emailSink({ ...channel, port: 1 });
    await expect(nobody.send(notification(), AbortSignal.timeout(10_000))).rejects.toMatchObject({ kind: 'transient' });
  });
});
