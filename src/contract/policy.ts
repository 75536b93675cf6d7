// The decision contract between Rego and the gateway (see policies/README.md):
// one normalised input for every face and one decision document back.

import { BelayError } from '../errors.js';
import type { JsonObject, PatchOperation } from './json.js';

export const FACES = ['admission', 'authorization', 'toolcall', 'toolresult', 'prompt'] as const;
export type Face = (typeof FACES)[number];

/** The entrypoint a face evaluates: `data.belay.<face>.decision`, one per face, declared in the bundle's Rego. */
export function entrypointOf(face: Face): string {
  return `belay/${face}/decision`;
}

export interface Actor {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
  agent: boolean;
  serviceAccount: { namespace: string; name: string } | null;
}

export interface Action {
  operation: string;
  verb: string;
  subresource: string;
  dryRun: boolean;
}

export interface ResourceRef {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface AgentContext {
  workflow?: string;
  /** One run of the workflow (an agent's plan): approvers can decide all of a run's requests at once. */
  run?: string;
  confidence?: number;
  rationale?: string;
  remediationTarget?: string;
  cluster?: string;
  /** Agent API only: the prompt that led to the call, as the scanner redacted it. */
  prompt?: string;
  source?: 'annotation' | 'userinfo' | 'api';
}

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
}

export interface PolicyInput {
  face: Face;
  actor: Actor;
  action: Action;
  resource: ResourceRef;
  object: JsonObject | null;
  oldObject: JsonObject | null;
  options: JsonObject | null;
  dryRun: boolean;
  namespace: NamespaceInfo | null;
  context: AgentContext;
  tool: JsonObject | null;
  content: JsonObject | null;
}

export type Verdict = 'allow' | 'deny' | 'defer';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type TrustMode = 'observe' | 'selective' | 'approve' | 'automate';

export interface Reason {
  rule: string;
  message: string;
  severity: Severity;
}

export interface ApprovalTerms {
  groups: string[];
  ttl: string;
  risk: string;
}

export interface Decision {
  decision: Verdict;
  reasons: Reason[];
  fixes: PatchOperation[];
  redact: string[];
  warnings: string[];
  approval: ApprovalTerms | null;
  mode: TrustMode | null;
  wouldBe: Verdict | null;
}

const VERDICTS: readonly string[] = ['allow', 'deny', 'defer'];
const SEVERITIES: readonly string[] = ['low', 'medium', 'high', 'critical'];
const MODES: readonly string[] = ['observe', 'selective', 'approve', 'automate'];
const PATCH_OPS: readonly string[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

export const DEFAULT_APPROVAL_TTL = '15m';

/**
 * Checks the document a policy returned and fills defaults. A bundle that
 * answers something else is broken, and a broken answer must never be taken
 * for an allow, so this throws and the caller fails closed.
 */
export function parseDecision(raw: unknown, entrypoint: string): Decision {
  const fail = (what: string): never => {
    throw new BelayError('evaluation_failed', `policy ${entrypoint} returned an invalid decision: ${what}`);
  };
  if (raw === undefined) fail('the entrypoint is undefined for this input (no decision rule matched)');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('not an object');
  const doc = raw as Record<string, unknown>;

  if (typeof doc.decision !== 'string' || !VERDICTS.includes(doc.decision)) {
    fail(`"decision" must be one of ${VERDICTS.join(', ')}`);
  }
  const reasons = arrayOf(doc.reasons, 'reasons', fail).map((r, i): Reason => {
    if (typeof r !== 'object' || r === null) return fail(`reasons[${i}] is not an object`);
    const o = r as Record<string, unknown>;
    if (typeof o.rule !== 'string' || typeof o.message !== 'string') {
      return fail(`reasons[${i}] needs string "rule" and "message"`);
    }
    const severity = typeof o.severity === 'string' && SEVERITIES.includes(o.severity) ? o.severity : 'medium';
    return { rule: o.rule, message: o.message, severity: severity as Severity };
  });
  const fixes = arrayOf(doc.fixes, 'fixes', fail).map((f, i): PatchOperation => {
    if (typeof f !== 'object' || f === null) return fail(`fixes[${i}] is not an object`);
    const o = f as Record<string, unknown>;
    if (typeof o.op !== 'string' || !PATCH_OPS.includes(o.op) || typeof o.path !== 'string') {
      return fail(`fixes[${i}] is not an RFC 6902 operation`);
    }
    return o as unknown as PatchOperation;
  });
  const redact = arrayOf(doc.redact, 'redact', fail).map((p, i) => (typeof p === 'string' ? p : fail(`redact[${i}] is not a JSON pointer string`)));
  const warnings = arrayOf(doc.warnings, 'warnings', fail).map((w, i) => (typeof w === 'string' ? w : fail(`warnings[${i}] is not a string`)));

  let approval: ApprovalTerms | null = null;
  if (doc.approval !== undefined && doc.approval !== null) {
    if (typeof doc.approval !== 'object') fail('"approval" is not an object');
    const a = doc.approval as Record<string, unknown>;
    approval = {
      groups: Array.isArray(a.groups) ? a.groups.filter((g): g is string => typeof g === 'string') : [],
      ttl: typeof a.ttl === 'string' && a.ttl !== '' ? a.ttl : DEFAULT_APPROVAL_TTL,
      risk: typeof a.risk === 'string' ? a.risk : 'medium',
    };
  }
  const mode = typeof doc.mode === 'string' && MODES.includes(doc.mode) ? (doc.mode as TrustMode) : null;
  const wouldBe = typeof doc.wouldBe === 'string' && VERDICTS.includes(doc.wouldBe) ? (doc.wouldBe as Verdict) : null;

  return { decision: doc.decision as Verdict, reasons, fixes, redact, warnings, approval, mode, wouldBe };
}

function arrayOf(value: unknown, name: string, fail: (what: string) => never): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`"${name}" is not an array`);
  return value;
}
