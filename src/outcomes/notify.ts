// Telling people what became of a change: every finished outcome and every
// breaker trip goes through `OutcomeNotifier.emit`, the one place to hook a
// new channel (Slack, a webhook, email: `notifier.add(sink)`). Today's sinks
// are a log line and Kubernetes Events — on the changed object (so
// `kubectl describe deployment web` shows it) and on the ApprovalRequest that
// admitted it. A sink that fails is logged; it never stops the others.

import * as k8s from '@kubernetes/client-node';
import { APPROVAL_API_VERSION, APPROVAL_KIND } from '../approvals/resource.js';
import { asBelayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { OUTCOME_API_VERSION, OUTCOME_KIND, type RemedyRef, type TargetRef } from './resource.js';

export interface OutcomeNotice {
  kind: 'outcome' | 'breaker';
  /** Succeeded, Failed, Unknown; Demoted for a breaker. */
  result: string;
  reason: string;
  /** One sentence for a person. */
  message: string;
  evidence: string[];
  target?: TargetRef & { uid?: string };
  /** The Outcome record (namespace/name). */
  record?: string;
  /** The ApprovalRequest that admitted the change. */
  approval?: string;
  remedy?: RemedyRef;
  requester?: string;
  workflow?: string;
  breaker?: { id: string; key: string; failures: number; outcomes: string[] };
}

export type NoticeSink = (notice: OutcomeNotice) => Promise<void>;

export class OutcomeNotifier {
  #sinks: { name: string; sink: NoticeSink }[] = [];
  #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a channel; every notice from now on reaches it. */
  add(name: string, sink: NoticeSink): void {
    this.#sinks.push({ name, sink });
  }

  /** Sends a notice to every channel; resolves when all have answered (failures logged). */
  async emit(notice: OutcomeNotice): Promise<void> {
    await Promise.all(
      this.#sinks.map(({ name, sink }) =>
        sink(notice).catch((err) =>
          this.#log.warn({ sink: name, record: notice.record, err: asBelayError(err).message }, 'could not deliver an outcome notice'),
        ),
      ),
    );
  }
}

/** A log line per notice: warn for failures and trips. */
export function logSink(log: Logger): NoticeSink {
  return async (n) => {
    const fields = {
      notice: n.kind,
      result: n.result,
      reason: n.reason,
      record: n.record,
      approval: n.approval,
      remedy: n.remedy?.approval,
      requester: n.requester,
      workflow: n.workflow,
      breaker: n.breaker?.id,
    };
    const level = n.result === 'Failed' || n.kind === 'breaker' ? 'warn' : 'info';
    log[level](fields, n.message);
  };
}

const COMPONENT = 'belay';
const MAX_MESSAGE = 1024;

/** Events on the changed object and on the ApprovalRequest (or, without one, the Outcome record). */
export function eventSink(kubeConfig: k8s.KubeConfig, instance: string, fallbackNamespace: string): NoticeSink {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const emit = async (involved: k8s.V1ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string) => {
    const now = new Date();
    const namespace = involved.namespace || fallbackNamespace;
    await api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${involved.name ?? 'belay'}.`, namespace },
        involvedObject: involved,
        type,
        reason,
        message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: instance.slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        eventTime: new k8s.V1MicroTime(now.toISOString()),
        action: reason,
        count: 1,
      },
    });
  };
  return async (n) => {
    const type = n.result === 'Failed' || n.kind === 'breaker' || n.result === 'Unknown' ? 'Warning' : 'Normal';
    const reason = n.kind === 'breaker' ? 'TrustDemoted' : `Outcome${n.result}`;
    const remedy = n.remedy?.approval
      ? ` Remedy proposed: ApprovalRequest ${n.remedy.approval}.`
      : n.remedy && n.result === 'Failed'
        ? ` ${n.remedy.note}.`
        : '';
    const message = `${n.message}${remedy}`;
    const writes: Promise<void>[] = [];
    if (n.target?.uid) {
      const t = n.target;
      writes.push(
        emit(
          { apiVersion: t.group ? `${t.group}/${t.version}` : t.version, kind: t.kind, name: t.name, namespace: t.namespace, uid: t.uid },
          type,
          reason,
          message,
        ),
      );
    }
    if (n.approval) {
      const [namespace, name] = n.approval.split('/');
      writes.push(emit({ apiVersion: APPROVAL_API_VERSION, kind: APPROVAL_KIND, name, namespace }, type, reason, message));
    } else if (n.record) {
      const [namespace, name] = n.record.split('/');
      writes.push(emit({ apiVersion: OUTCOME_API_VERSION, kind: OUTCOME_KIND, name, namespace }, type, reason, message));
    }
    await Promise.all(writes);
  };
}
