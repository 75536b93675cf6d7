// Test support for outcome tracking: the real default policies (with short
// windows and a workflow in automate), the admission face's decisions with
// the real approval lifecycle, recorder and watcher over a fake API server,
// and a clock the test moves. One change flows as it would in a cluster:
// decided, admitted, recorded, watched, judged.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { KubeApprovalStore } from '../approvals/kube-store.js';
import { ApprovalLifecycle } from '../approvals/lifecycle.js';
import { type ActivePolicy, PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import type { Decision, JsonObject, PolicyInput, WatchRequest } from '../contract/index.js';
import { type AdmissionOutcome, decideAdmission } from '../decide/admission.js';
import type { AdmissionRequest } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import type { DecisionRecord } from '../observe/decisions.js';
import { silentLogger } from '../observe/log.js';
import { BreakerView, KubeBreakerStore } from '../outcomes/breaker.js';
import { type ControllerLimits, OutcomeController } from '../outcomes/controller.js';
import { type OutcomeNotice, OutcomeNotifier } from '../outcomes/notify.js';
import { KubeTargetReader, type TargetReader } from '../outcomes/reader.js';
import { OutcomeRecorder } from '../outcomes/recorder.js';
import { KubeOutcomeStore } from '../outcomes/store.js';
import { type FakeKube, startFakeKube } from './fake-kube.js';
import { buildBundle } from './opa-bundle.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** policies/ with short windows and `auto-wf` in automate, compiled like `make bundle`. */
export function outcomesBundle(overrides: (config: Record<string, any>) => void = () => {}): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-outcomes-policies-'));
  cpSync(path.join(root, 'policies'), dir, { recursive: true });
  const file = path.join(dir, 'data.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { belay: { config: Record<string, any> } };
  const config = data.belay.config;
  config.outcomes = { ...config.outcomes, window: '2m', settle: '10s', notReadyAfter: '20s' };
  // The workflow is trusted for the agent that runs it, and only for it (trust.claimants).
  config.trust = { ...config.trust, workflows: { 'auto-wf': 'automate' }, claimants: { 'auto-wf': { serviceAccounts: ['agents/remediator'] } } };
  overrides(config);
  writeFileSync(file, JSON.stringify(data));
  return buildBundle(dir, { revision: 'outcomes-test' });
}

export const AGENT = { username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] };
export const ALICE = { username: 'alice', groups: ['belay:approvers'] };

/** A Deployment as an agent sends it. */
export function agentDeployment(
  o: { name?: string; replicas?: number; image?: string; annotations?: Record<string, string>; secure?: boolean } = {},
): JsonObject {
  const name = o.name ?? 'web';
  const secure = o.secure ?? true;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'team-a', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(secure ? { securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } } } : {}),
          containers: [
            {
              name: 'web',
              image: o.image ?? 'nginxinc/nginx-unprivileged:1.27',
              ...(secure ? { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } } : {}),
            },
          ],
        },
      },
    },
  };
}

/** Agent context that makes policy defer the change to a human (context.low_confidence). */
export const LOW_CONFIDENCE = { 'belay.dev/workflow': 'scale-web', 'belay.dev/confidence': '0.5', 'belay.dev/remediation-target': 'Deployment/web' };

export interface OutcomesHarness {
  kube: FakeKube;
  kc: k8s.KubeConfig;
  policy: () => ActivePolicy | undefined;
  approvals: KubeApprovalStore;
  lifecycle: ApprovalLifecycle;
  outcomes: KubeOutcomeStore;
  recorder: OutcomeRecorder;
  breakers: { store: KubeBreakerStore; view: BreakerView };
  controller: OutcomeController;
  decisions: DecisionRecord[];
  notices: OutcomeNotice[];
  clock: { wall: number; mono: number };
  /** Moves both clocks by `ms`, in steps of `step`, running the watcher at each. */
  advance(ms: number, step?: number): Promise<void>;
  /** The mutating then the validating review of one API request, as the API server sends them. */
  admit(
    operation: 'CREATE' | 'UPDATE',
    object: JsonObject,
    oldObject?: JsonObject | null,
    user?: { username: string; groups: string[] },
  ): Promise<AdmissionOutcome[]>;
  close(): Promise<void>;
}

let uids = 0;

export async function outcomesHarness(
  bundle: Buffer,
  options: { limits?: Partial<ControllerLimits>; reader?: TargetReader; start?: boolean } = {},
): Promise<OutcomesHarness> {
  const kube = await startFakeKube({ username: 'system:serviceaccount:belay:belay' });
  const kc = kube.kubeConfig();
  const policies = new PolicyStore();
  await policies.activate(await parseBundle(bundle), 'test');
  const policy = () => policies.current();
  const clock = { wall: Date.parse('2026-12-06T10:00:00Z'), mono: 1_000_000 };
  const now = () => new Date(clock.wall);
  const approvals = new KubeApprovalStore(kc);
  const lifecycle = new ApprovalLifecycle({ store: approvals, now });
  const outcomes = new KubeOutcomeStore(kc);
  const recorder = new OutcomeRecorder({ store: outcomes, namespace: 'belay', log: silentLogger, now });
  const breakerStore = new KubeBreakerStore(kc, 'belay');
  const breakers = { store: breakerStore, view: new BreakerView(breakerStore) };
  const decisions: DecisionRecord[] = [];
  const notices: OutcomeNotice[] = [];
  const notifier = new OutcomeNotifier(silentLogger);
  notifier.add('test', async (n) => void notices.push(n));
  const controller = new OutcomeController({
    store: outcomes,
    reader: options.reader ?? new KubeTargetReader(kc),
    approvals,
    remedies: async () => (await approvals.list()).filter((r) => r.metadata.labels?.['belay.dev/remedy'] === 'true'),
    breakers,
    policy,
    namespaces: namesOnly,
    notifier,
    decisions: { record: (r) => void decisions.push(r), close: async () => {} },
    log: silentLogger,
    identity: 'replica-1',
    namespace: 'belay',
    now,
    mono: () => clock.mono,
    limits: { pollIntervalMs: 2_000, readsPerSecond: 1_000, ...options.limits },
  });
  if (options.start !== false) {
    controller.startIntake(kc, (config) => new k8s.Watch(config));
    // The fake API server replays nothing: wait until the watch is open.
    for (let i = 0; i < 500 && kube.watching('belay.dev/outcomes') === 0; i++) await new Promise((r) => setTimeout(r, 10));
  }
  const deps = { policy, approvals: lifecycle, namespaces: namesOnly, outcomes: { recorder, input: () => breakers.view.input() } };
  return {
    kube,
    kc,
    policy,
    approvals,
    lifecycle,
    outcomes,
    recorder,
    breakers,
    controller,
    decisions,
    notices,
    clock,
    async advance(ms, step = 2_000) {
      for (let t = 0; t < ms; t += step) {
        clock.wall += step;
        clock.mono += step;
        controller.tick();
        await controller.flush();
      }
    },
    async admit(operation, object, oldObject = null, user = AGENT) {
      const base = {
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: String((object.metadata as JsonObject).name),
        namespace: 'team-a',
        operation,
        userInfo: user,
        oldObject,
      };
      const mutated: AdmissionRequest = { ...base, uid: `mutate-${++uids}`, object };
      const m = await decideAdmission(mutated, 'mutate', deps);
      if (!m.allowed) return [m];
      let next = object;
      if (m.patch) {
        const { applyPatch } = await import('../patch/apply.js');
        const applied = applyPatch(object, m.patch);
        if (applied.ok) next = applied.value as JsonObject;
      }
      // The API server stamps what storage will hold: uid, generation.
      const old = (oldObject?.metadata ?? {}) as JsonObject;
      const meta = {
        ...(next.metadata as JsonObject),
        uid: old.uid ?? `uid-${uids}`,
        generation: (typeof old.generation === 'number' ? old.generation : 0) + 1,
      };
      if (oldObject) (meta as JsonObject).resourceVersion = old.resourceVersion ?? '1';
      const validated: AdmissionRequest = { ...base, uid: `validate-${uids}`, object: { ...next, metadata: meta } };
      const v = await decideAdmission(validated, 'validate', deps);
      await recorder.flush();
      return [m, v];
    },
    async close() {
      await controller.stop();
      await recorder.flush();
      await policies.close();
      await kube.close();
    },
  };
}

/** A watch request as the default policy writes it. */
export const WATCH: WatchRequest = {
  window: '5m',
  settle: '30s',
  notReadyAfter: '2m',
  restartLimit: 3,
  triggers: ['workload'],
  trust: { mode: 'approve', scope: 'global', subject: '' },
};
/** An allow that asks for a watch. */
export const watchedDecision = (over: Partial<Decision> = {}): Decision => ({
  decision: 'allow',
  reasons: [],
  fixes: [],
  redact: [],
  warnings: [],
  approval: null,
  mode: 'approve',
  wouldBe: null,
  watch: WATCH,
  ...over,
});
/** An agent's admission of `object` over `oldObject` (CREATE without one, DELETE without `object`), Deployment team-a/web. */
export const agentInput = (object: JsonObject | null, oldObject: JsonObject | null, over: Partial<PolicyInput> = {}): PolicyInput => ({
  face: 'admission',
  actor: {
    username: 'system:serviceaccount:agents:bot',
    groups: ['system:serviceaccounts'],
    extra: {},
    agent: true,
    serviceAccount: { namespace: 'agents', name: 'bot' },
  },
  action: { operation: oldObject ? (object ? 'UPDATE' : 'DELETE') : 'CREATE', verb: 'update', subresource: '', dryRun: false },
  resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'team-a', name: 'web' },
  object,
  oldObject,
  options: null,
  dryRun: false,
  namespace: { name: 'team-a' },
  context: { workflow: 'scale-web' },
  tool: null,
  content: null,
  ...over,
});
