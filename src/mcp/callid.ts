// The request id a tool call is evaluated under. The gateway keys approvals
// on the call itself (agent, tool, canonical arguments, target), so an
// identical retry finds the same ApprovalRequest whatever the id; the id is
// the idempotency key of one use. It names the call (a digest of the tool
// and its canonical arguments, so logs and approvals can be matched) and one
// invocation of it (a nonce): belay's own re-asks within an invocation (after
// --wait, after a lost answer) reuse it and never count as a second use, and
// the agent's next identical call is a new use — the approval is single-use.

import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../approvals/fingerprint.js';
import type { JsonObject } from '../contract/index.js';
import { canonicalJson } from '../util/canonical.js';

/** sha256 of the tool name and canonical arguments, shortened. */
export function callDigest(name: string, args: JsonObject): string {
  return sha256Hex(canonicalJson({ name, arguments: args })).slice(0, 20);
}

export function invocationId(name: string, args: JsonObject): string {
  return `mcp-${callDigest(name, args)}-${randomBytes(6).toString('hex')}`;
}
