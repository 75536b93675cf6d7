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

/**
 * What policy may know about one container image (docs/images.md), read from
 * its registry. Unknown images carry only `known: false` and the reason.
 */
export interface ImageFactsInput {
  known: boolean;
  reason?: string;
  /** The config's User as written ("" when the image sets none, which means root). */
  user?: string;
  /** Numeric UID (0 for no User); null when the user is a name. */
  uid?: number | null;
  /** A non-numeric user the kubelet cannot verify as non-root. */
  named?: boolean;
  /** True only for a numeric UID above 0. */
  nonRoot?: boolean;
  digest?: string;
  platform?: string;
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
  /**
   * Facts about the images of the object's pod spec, keyed by the image as
   * written; present only once a rule in the `images.` family asked for them
   * (src/images/source.ts). Absent facts mean unknown.
   */
  images?: Record<string, ImageFactsInput>;
  /**
   * An UPDATE's changes: the JSON paths at which `object` differs from
   * `oldObject` (src/input/changes.ts), null when there are too many to
   * list; absent on other requests. Rules that find none compare the objects.
   */
  changed?: (string | number)[][] | null;
  /**
   * What the gateway knows of outcomes that policy judges by: the tripped
   * circuit breakers of scopes graduated to automate (policies/trust). Absent
   * where nothing is watched (local mode, tests).
   */
  outcomes?: OutcomesInput | null;
}

/** A circuit breaker that tripped: a scope in automate whose automated changes failed too often in a row. */
export interface BreakerTrip {
  /** Stable id; policy data lists it under outcomes.breaker.acknowledged to undo the demotion. */
  id: string;
  trippedAt: string;
  /** Failed outcomes in a row when it tripped. */
  failures: number;
  /** The failed changes (Outcome records or ApprovalRequests), newest last. */
  outcomes: string[];
}

export interface OutcomesInput {
  /** Keyed "<scope>:<name>": "workflow:restart-pod-v1", "agent:<username>", "namespace:<ns>", "global:". */
  breakers: Record<string, BreakerTrip>;
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
  /**
   * The workflow the request claimed, and whether the claim held: a workflow
   * the trust settings single out counts only for the identities listed for
   * it. Absent when the policy says nothing about it.
   */
  claim?: WorkflowClaim | null;
  /** What to watch once the change is admitted (README "Outcomes"); absent or null: nothing. */
  watch?: WatchRequest | null;
}

export interface WorkflowClaim {
  workflow: string;
  honored: boolean;
}

/** Why a change is worth watching, as policy says it. */
export type WatchTrigger = 'approval' | 'automate' | 'fix' | 'policy' | 'workload';

export interface WatchRequest {
  /** Go durations. */
  window: string;
  settle: string;
  notReadyAfter: string;
  restartLimit: number;
  triggers: WatchTrigger[];
  /** The trust mode that applied and the scope it came from: automated outcomes count toward that scope's breaker. */
  trust: { mode: TrustMode | null; scope: string; subject: string } | null;
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

  const c = doc.claim as Record<string, unknown> | null | undefined;
  const claim =
    c && typeof c === 'object' && typeof c.workflow === 'string' && typeof c.honored === 'boolean' ? { workflow: c.workflow, honored: c.honored } : null;

  const watch = parseWatch(doc.watch);
  return {
    decision: doc.decision as Verdict,
    reasons,
    fixes,
    redact,
    warnings,
    approval,
    mode,
    wouldBe,
    ...(claim ? { claim } : {}),
    ...(watch ? { watch } : {}),
  };
}

const TRIGGERS: readonly string[] = ['approval', 'automate', 'fix', 'policy', 'workload'];

/**
 * The watch request, leniently: it only asks the gateway to observe what
 * happens after an admitted change, so a malformed one means nothing is
 * watched rather than a refused request.
 */
function parseWatch(raw: unknown): WatchRequest | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const w = raw as Record<string, unknown>;
  const str = (v: unknown, d: string) => (typeof v === 'string' && v !== '' ? v : d);
  const triggers = Array.isArray(w.triggers) ? w.triggers.filter((t): t is WatchTrigger => typeof t === 'string' && TRIGGERS.includes(t)) : [];
  if (triggers.length === 0) return null;
  const t = typeof w.trust === 'object' && w.trust !== null ? (w.trust as Record<string, unknown>) : null;
  return {
    window: str(w.window, '5m'),
    settle: str(w.settle, '30s'),
    notReadyAfter: str(w.notReadyAfter, '2m'),
    restartLimit: typeof w.restartLimit === 'number' && Number.isInteger(w.restartLimit) && w.restartLimit > 0 ? w.restartLimit : 3,
    triggers,
    trust: t
      ? {
          mode: typeof t.mode === 'string' && MODES.includes(t.mode) ? (t.mode as TrustMode) : null,
          scope: typeof t.scope === 'string' ? t.scope : '',
          subject: typeof t.subject === 'string' ? t.subject : '',
        }
      : null,
  };
}

function arrayOf(value: unknown, name: string, fail: (what: string) => never): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`"${name}" is not an array`);
  return value;
}
