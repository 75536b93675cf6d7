// Test support: an in-memory approval gate and store with the lifecycle the
// faces rely on (Pending → Approved|Rejected → Consumed, single use, an
// admission review's uid seen again is not a second use — an agent's id is, an edit is checked by the
// face's `admit` before the approval is used up, a request with a window is
// admitted again until the window after the use ends).

import { requestKeys } from '../approvals/fingerprint.js';
import type { ApprovalGate, DeferredRequest, GateOutcome } from '../approvals/gate.js';
import { APPROVAL_API_VERSION, APPROVAL_KIND, type ApprovalOverride, type ApprovalPhase, type ApprovalRequest } from '../approvals/resource.js';
import { storedToolCall } from '../redact/arguments.js';

export class FakeApprovals implements ApprovalGate {
  readonly records: ApprovalRequest[] = [];
  readonly calls: DeferredRequest[] = [];

  async resolve(req: DeferredRequest): Promise<GateOutcome> {
    this.calls.push(req);
    const keys = requestKeys(req.input);
    const latest = [...this.records].reverse().find((r) => r.spec.fingerprint === keys.fingerprint);
    const id = (r: ApprovalRequest) => `${r.metadata.namespace}/${r.metadata.name}`;
    if (latest) {
      const phase = latest.status!.phase;
      if (phase === 'Pending') return { kind: 'pending', approvalId: id(latest), message: `ask an approver: belay approvals approve ${id(latest)}` };
      if (phase === 'Rejected')
        return { kind: 'rejected', approvalId: id(latest), message: `rejected by ${latest.status!.decidedBy}: ${latest.status!.message ?? ''}` };
      if (phase === 'Consumed' && req.idempotent && latest.status!.consumption?.requestUid === req.requestUid) return this.#approved(latest, req);
      const usedAt = Date.parse(latest.status!.consumption?.at ?? '');
      if (phase === 'Consumed' && req.windowMs && Date.now() < usedAt + req.windowMs) return this.#approved(latest, req);
      if (phase === 'Approved') {
        const override = latest.status!.override ?? null;
        if (req.admit) {
          const check = await req.admit(override?.patch ?? null, override?.arguments ?? null);
          if (!check.ok) return { kind: 'refused', approvalId: id(latest), message: check.message };
        }
        if (!req.dryRun)
          latest.status = {
            ...latest.status!,
            phase: 'Consumed',
            consumption: { requestUid: req.requestUid, objectDigest: keys.objectDigest, at: new Date().toISOString() },
          };
        return this.#approved(latest, req);
      }
    }
    if (req.dryRun) return { kind: 'pending', approvalId: null, message: 'dry run: no approval created' };
    const n = this.records.filter((r) => r.spec.fingerprint === keys.fingerprint).length + 1;
    const record: ApprovalRequest = {
      apiVersion: APPROVAL_API_VERSION,
      kind: APPROVAL_KIND,
      metadata: { name: `belay-${keys.fingerprint.slice(0, 20)}${n > 1 ? `-${n}` : ''}`, namespace: 'belay' },
      spec: {
        face: req.input.face,
        requester: { user: req.input.actor.username, groups: req.input.actor.groups },
        request: {
          operation: req.input.action.operation,
          group: req.input.resource.group,
          kind: req.input.resource.kind,
          resource: req.input.resource.resource,
          subresource: req.input.action.subresource,
          namespace: req.input.resource.namespace,
          name: req.input.resource.name,
        },
        fingerprint: keys.fingerprint,
        objectDigest: keys.objectDigest,
        object: null,
        // Stored as the real record is (src/approvals/record.ts): the arguments redacted, with their digest.
        ...(req.input.tool ? { tool: storedToolCall(req.input.tool) } : {}),
        reasons: req.decision.reasons,
        fixes: [],
        bundleRevision: req.revision,
        approverGroups: req.decision.approval?.groups ?? ['belay:approvers'],
        risk: req.decision.approval?.risk ?? 'medium',
        context: req.input.context,
        requiredBy: new Date(Date.now() + 15 * 60_000).toISOString(),
      },
      status: { phase: 'Pending' },
    };
    this.records.push(record);
    return { kind: 'pending', approvalId: id(record), message: `ask an approver: belay approvals approve ${id(record)}` };
  }

  #approved(r: ApprovalRequest, req: DeferredRequest): GateOutcome {
    const o = r.status!.override ?? null;
    const usedAt = Date.parse(r.status!.consumption?.at ?? '');
    const until = req.windowMs && Number.isFinite(usedAt) ? { until: new Date(usedAt + req.windowMs).toISOString() } : {};
    return {
      kind: 'approved',
      approvalId: `${r.metadata.namespace}/${r.metadata.name}`,
      override: o?.patch ?? null,
      arguments: o?.arguments ?? null,
      decidedBy: r.status!.decidedBy ?? '',
      ...until,
    };
  }

  /** A human's decision. */
  decide(id: string, phase: Extract<ApprovalPhase, 'Approved' | 'Rejected'>, by: string, override?: ApprovalOverride, message?: string): void {
    const r = this.records.find((x) => `${x.metadata.namespace}/${x.metadata.name}` === id);
    if (!r) throw new Error(`no approval ${id}`);
    r.status = { phase, decidedBy: by, decidedAt: new Date().toISOString(), ...(override ? { override } : {}), ...(message ? { message } : {}) };
  }

  async get(namespace: string, name: string): Promise<ApprovalRequest | undefined> {
    return structuredClone(this.records.find((r) => r.metadata.namespace === namespace && r.metadata.name === name));
  }
}
