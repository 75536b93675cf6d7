import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDevTokens, ensureDevTokens } from './devtokens.js';
import { readStaticTokenFile, staticTokens } from './static.js';

describe('development tokens', () => {
  it('are made once, private, and reused', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'belay-dev-')), 'tokens');
    const first = ensureDevTokens(dir);
    expect(first.created).toBe(true);
    expect(statSync(first.files.approvers).mode & 0o777).toBe(0o600);
    const before = readFileSync(first.files.agents, 'utf8');
    const again = ensureDevTokens(dir);
    expect(again.created).toBe(false);
    expect(readFileSync(again.files.agents, 'utf8')).toBe(before);

    const [approver] = readStaticTokenFile(first.files.approvers);
    const user = await staticTokens(readStaticTokenFile(first.files.approvers)).authenticate(approver!.token);
    expect(user).toMatchObject({ username: 'dev-approver', groups: ['belay:approvers'] });
    const [agent] = readStaticTokenFile(first.files.agents);
    expect(agent!.username).toBe('system:serviceaccount:agents:dev-assistant');
    expect(describeDevTokens(first.files)).toEqual([
      `approver dev-approver: ${approver!.token}`,
      `agent system:serviceaccount:agents:dev-assistant: ${agent!.token}`,
    ]);
  });

  it('differ between two folders', () => {
    const a = ensureDevTokens(mkdtempSync(path.join(tmpdir(), 'belay-dev-')));
    const b = ensureDevTokens(mkdtempSync(path.join(tmpdir(), 'belay-dev-')));
    expect(readStaticTokenFile(a.files.approvers)[0]!.token).not.toBe(readStaticTokenFile(b.files.approvers)[0]!.token);
  });
});
