// Assertions on what kubectl printed. Loose about wording (messages evolve),
// strict about who answered, the outcome and the rule id.

import { expect } from 'vitest';
import type { KubectlResult } from './kubectl.js';

/** kubectl's prefix when one of belay's admission webhooks refuses a request. */
export const BELAY_DENIED = /admission webhook "(validate|mutate)\.belay\.dev" denied the request/;

/** Refused by belay (not RBAC, not the API server's validation), naming `rule`. */
export function expectBelayDenied(r: KubectlResult, rule: RegExp): void {
  expect(r.code, `${r.command} should fail\n${r.stdout}`).not.toBe(0);
  expect(r.stderr).toMatch(BELAY_DENIED);
  expect(r.stderr).toMatch(rule);
  expect(r.stderr).not.toMatch(/is forbidden: User .* cannot/); // an RBAC refusal would be the wrong answer
}

/** Deferred: refused with a pointer to the approval. */
export function expectDeferred(r: KubectlResult): void {
  expect(r.code, `${r.command} should fail\n${r.stdout}`).not.toBe(0);
  expect(r.stderr).toMatch(BELAY_DENIED);
  expect(r.stderr).toMatch(/approv/i);
  expect(r.stderr).toMatch(/\[rule [\w.:/-]+\]/);
}

export function expectOk(r: KubectlResult, stdout?: RegExp): void {
  expect(r.code, `${r.command}\n${r.stderr}`).toBe(0);
  if (stdout) expect(r.stdout).toMatch(stdout);
}

/** The rule ids a belay message names (`[rule a.b.c]`, `(also: d.e, f.g)`). */
export function rulesIn(text: string): string[] {
  const first = [...text.matchAll(/\[rule ([\w.:/-]+)\]/g)].map((m) => m[1]!);
  const also = [...text.matchAll(/\(also: ([^)]*)\)/g)].flatMap((m) => m[1]!.split(/,\s*/));
  return [...first, ...also].filter((r) => r && r !== '…');
}
