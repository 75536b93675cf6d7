// `belay approvals list|show|approve|reject|edit|apply`: what an approver runs.
// With --kubeconfig (or BELAY_KUBECONFIG) it works on the cluster's
// ApprovalRequests as the kubeconfig's user — the API server authenticates
// them and belay's webhook enforces who may decide; inside a pod (`kubectl
// exec deploy/belay -- belay approvals list`) it uses the pod's service
// account the same way. Otherwise it works on the local store (--state-dir)
// that a gateway without a cluster uses, as the local user (--as,
// --as-group), under the same rules.
// Exit status: 0 done, 1 refused or not found, 2 usage error.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { Command, Option } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { approvedNote } from '../../approvals/explain.js';
import { targetHistory } from '../../approvals/history.js';
import { KubeApprovalStore } from '../../approvals/kube-store.js';
import { LocalApprovalStore } from '../../approvals/local-store.js';
import { type ApprovalOverride, type ApprovalRequest, DEFAULT_APPROVER_GROUPS, isLapsed, PHASES, phaseOf, refOf } from '../../approvals/resource.js';
import { DEFAULT_STATE_DIR } from '../../approvals/runtime.js';
import type { ApprovalStore, HumanDecision } from '../../approvals/store.js';
import { DEFAULT_BUNDLE } from '../../bundle/select.js';
import { readBundleFile } from '../../bundle/source.js';
import { clientClusterAccess, loadKubeConfig } from '../../cluster/access.js';
import { yamlDiff } from '../../console/diff.js';
import type { JsonObject, PatchOperation } from '../../contract/index.js';
import { asBelayError, BelayError } from '../../errors.js';
import { type AgentSelector, agentSelectorFromData, type UserInfo } from '../../identity/agents.js';
import { applyApproved } from '../../outcomes/apply.js';
import { diff } from '../../patch/apply.js';
import { redactedObject } from '../../redact/index.js';
import { formatDuration } from '../../util/duration.js';
import { EXIT, usageExitsTwo } from './shared.js';

interface StoreOptions {
  kubeconfig?: string;
  context?: string;
  stateDir: string;
  /** Local store: the bundle that says who is an agent (agents never decide). */
  bundle: string;
  as?: string;
  asGroup?: string[];
  namespace?: string;
}

export function approvalsCommand(): Command {
  // The store options belong to `approvals`, so they work before or after the subcommand.
  const command = withStore(
    new Command('approvals')
      .description('list, inspect and decide ApprovalRequests: in the cluster with --kubeconfig, else in the local store')
      .alias('approval'),
  );

  command.addCommand(
    usageExitsTwo(new Command('list'))
      .description('list approval requests, newest first')
      .option('-A, --all-namespaces', 'every namespace (the default without -n)')
      .addOption(new Option('--phase <phase>', 'only requests in this phase').choices([...PHASES]))
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'wide', 'json', 'yaml']).default('table'))
      .action(
        run(async (opts: StoreOptions & { phase?: string; output: string; allNamespaces?: boolean }) => {
          const store = await openStore(opts);
          let items = await store.list(opts.allNamespaces ? undefined : opts.namespace);
          if (opts.phase) items = items.filter((r) => phaseOf(r) === opts.phase);
          items.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || refOf(a).localeCompare(refOf(b)));
          if (opts.output === 'json') return print(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`);
          if (opts.output === 'yaml') return print(toYaml({ apiVersion: 'v1', kind: 'List', items }));
          if (items.length === 0) return print(`No approval requests${opts.phase ? ` in phase ${opts.phase}` : ''} (${store.location}).\n`);
          print(table(items, opts.output === 'wide', new Date()));
        }),
      ),
  );

  command.addCommand(
    usageExitsTwo(new Command('show'))
      .description('show one approval request: what was asked, why, by whom, and its decision')
      .argument('<ref>', 'namespace/name (or a name with -n, or a name unique across namespaces)')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
      .action(
        run(async (ref: string, opts: StoreOptions & { output: string }) => {
          const store = await openStore(opts);
          const r = await find(store, ref, opts.namespace);
          if (opts.output === 'json') return print(`${JSON.stringify(r, null, 2)}\n`);
          if (opts.output === 'yaml') return print(toYaml(r));
          // The object's history is what else the caller can list; without that right it is left out.
          const others = await store.list().catch(() => store.list(r.metadata.namespace).catch(() => []));
          print(describe(r, new Date(), others));
        }),
      ),
  );

  command.addCommand(
    usageExitsTwo(new Command('approve'))
      .description(
        "approve a request: the agent's next retry of the same request is admitted, once. With --workflow, every pending request of that workflow run, each checked on its own",
      )
      .argument('[ref]', "namespace/name (as the agent's denial printed it)")
      .option('-m, --message <text>', 'why (recorded with the decision)')
      .option('--apply-fixes', 'approve with the fixes policy proposed applied to the object (spec.fixes)')
      .option('--workflow <name>', 'decide every pending request of this agent workflow (belay.dev/workflow) at once, instead of <ref>')
      .option('--run <id>', 'with --workflow: only the requests of this run (belay.dev/workflow-run)')
      .action(
        run(async (ref: string | undefined, opts: StoreOptions & RunOptions & { message?: string; applyFixes?: boolean }) => {
          const store = await openStore(opts, { deciding: true });
          if (opts.workflow !== undefined || ref === undefined) {
            if (opts.applyFixes) throw new BelayError('bad_request', '--apply-fixes decides one request at a time; leave out --workflow');
            return decideRun(store, ref, { phase: 'Approved', ...(opts.message ? { message: opts.message } : {}) }, opts);
          }
          const r = await find(store, ref, opts.namespace);
          let override: ApprovalOverride | undefined;
          if (opts.applyFixes) {
            if (r.spec.fixes.length === 0)
              throw new BelayError('bad_request', `${refOf(r)} has no proposed fixes; approve it as it is, or use "belay approvals edit"`);
            override = { patch: r.spec.fixes };
          }
          await decide(store, r, { phase: 'Approved', ...(opts.message ? { message: opts.message } : {}), ...(override ? { override } : {}) }, opts);
        }),
      ),
  );

  command.addCommand(
    usageExitsTwo(new Command('reject'))
      .description(
        "reject a request: the agent's retries stay refused with your message until the request expires. With --workflow, every pending request of that workflow run",
      )
      .argument('[ref]', 'namespace/name')
      .requiredOption('-m, --message <text>', 'why: the agent (and the human behind it) reads this')
      .option('--workflow <name>', 'reject every pending request of this agent workflow (belay.dev/workflow) at once, instead of <ref>')
      .option('--run <id>', 'with --workflow: only the requests of this run (belay.dev/workflow-run)')
      .action(
        run(async (ref: string | undefined, opts: StoreOptions & RunOptions & { message: string }) => {
          const store = await openStore(opts, { deciding: true });
          if (opts.workflow !== undefined || ref === undefined) return decideRun(store, ref, { phase: 'Rejected', message: opts.message }, opts);
          const r = await find(store, ref, opts.namespace);
          await decide(store, r, { phase: 'Rejected', message: opts.message }, opts);
        }),
      ),
  );

  command.addCommand(
    usageExitsTwo(new Command('edit'))
      .description(
        'approve a request with an edit: a changed object (checked by policy again on the retry) or, for a tool call, replacement arguments. Without an option, opens $EDITOR on the object',
      )
      .argument('<ref>', 'namespace/name')
      .option('--patch <json>', 'an RFC 6902 JSON patch to the object, e.g. \'[{"op":"replace","path":"/spec/replicas","value":2}]\'')
      .option('--patch-file <file>', 'the JSON patch from a file')
      .option('-f, --file <file>', 'the edited object (YAML or JSON); the patch is computed from the difference')
      .option('--arguments <json>', 'replacement arguments for a tool call (a JSON object)')
      .option('-m, --message <text>', 'why (recorded with the decision)')
      .action(
        run(async (ref: string, opts: StoreOptions & { patch?: string; patchFile?: string; file?: string; arguments?: string; message?: string }) => {
          const store = await openStore(opts, { deciding: true });
          const r = await find(store, ref, opts.namespace);
          const override = await editOf(r, opts);
          await decide(store, r, { phase: 'Approved', override, ...(opts.message ? { message: opts.message } : {}) }, opts);
        }),
      ),
  );
  command.addCommand(
    usageExitsTwo(new Command('apply'))
      .description(
        'apply an Approved request yourself, with your own credentials (a cluster only): e.g. the rollback belay proposed after a change failed, when the agent cannot. Updates replace the object whole; belay then watches the outcome',
      )
      .argument('<ref>', 'namespace/name')
      .action(
        run(async (ref: string, opts: StoreOptions) => {
          const kc = kubeConfigOf(opts);
          const store = await openStore(opts);
          const r = await find(store, ref, opts.namespace);
          const done = await applyApproved(kc, r, new Date());
          print(`${done} as your kubeconfig user; belay records the outcome on ${refOf(r)} once it sees the change (belay approvals show ${refOf(r)})\n`);
        }),
      ),
  );
  return usageExitsTwo(command);
}

/** The options every subcommand shares: which store, and who is deciding locally. */
function withStore(command: Command): Command {
  return command
    .option(
      '--kubeconfig <file>',
      "work on this cluster's ApprovalRequests (default: BELAY_KUBECONFIG; without it, the local store)",
      process.env.BELAY_KUBECONFIG,
    )
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--state-dir <dir>', 'local store directory (without a kubeconfig)', process.env.BELAY_STATE_DIR ?? DEFAULT_STATE_DIR)
    .option(
      '--bundle <file>',
      "local store only: the gateway's policy bundle, which says who is an agent (agents never decide; without it nothing is decided)",
      process.env.BELAY_BUNDLE ?? DEFAULT_BUNDLE,
    )
    .option('-n, --namespace <ns>', 'namespace of the request')
    .option('--as <user>', 'local store only: who is deciding (default: your login name)')
    .option(
      '--as-group <group>',
      `local store only: a group of the decider, repeatable (default: ${DEFAULT_APPROVER_GROUPS.join(', ')})`,
      (g: string, all: string[] = []) => [...all, g],
    );
}

/** Runs an action; a failure prints `belay approvals: …` and sets the catalogue's exit status. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async function action(...args: unknown[]) {
    // commander passes (…arguments, options, command): hand the options object to fn in its place.
    const command = args[args.length - 1] as Command;
    const callArgs = [...args.slice(0, -2), command.optsWithGlobals()] as unknown as A;
    try {
      await fn(...callArgs);
      process.exitCode = EXIT.ok;
    } catch (err) {
      const e = asBelayError(err);
      process.stderr.write(`belay approvals ${command.name()}: ${e.message}\n`);
      process.exitCode = e.exitStatus;
    }
  };
}

async function openStore(opts: StoreOptions, { deciding = false }: { deciding?: boolean } = {}): Promise<ApprovalStore> {
  const access = clientClusterAccess(opts.kubeconfig);
  if (access.kind === 'local') {
    // In a cluster belay's webhook knows who is an agent; locally the bundle says, and without it nobody decides.
    const agents = deciding ? await bundleAgents(opts.bundle) : undefined;
    return LocalApprovalStore.open(opts.stateDir, agents ? { agents: () => agents } : {});
  }
  if (opts.as || opts.asGroup)
    throw new BelayError(
      'bad_request',
      '--as and --as-group are for the local store; in a cluster you decide as your kubeconfig user (choose it with --context)',
    );
  return new KubeApprovalStore(kubeConfigOf(opts));
}

/** Who is an agent according to the bundle the gateway serves; a clear refusal when it cannot be read. */
async function bundleAgents(file: string): Promise<AgentSelector> {
  try {
    return agentSelectorFromData((await readBundleFile(file)).data);
  } catch (err) {
    throw new BelayError(
      'not_ready',
      `cannot tell agents from approvers without the policy bundle (${asBelayError(err).message}); pass --bundle with the gateway's bundle. Nothing was decided`,
    );
  }
}

/** The kubeconfig the options name, at the --context they choose. */
/** The cluster a command talks to: --kubeconfig (and --context), or the pod's service account. */
function kubeConfigOf(opts: StoreOptions): k8s.KubeConfig {
  const access = clientClusterAccess(opts.kubeconfig);
  if (access.kind === 'local') throw new BelayError('bad_request', 'this needs a cluster: give --kubeconfig (or BELAY_KUBECONFIG)');
  if (opts.context && access.kind !== 'kubeconfig') throw new BelayError('bad_request', '--context needs --kubeconfig');
  return loadKubeConfig(access.kind === 'kubeconfig' && opts.context ? { ...access, context: opts.context } : access) as k8s.KubeConfig;
}

function localUser(opts: StoreOptions): UserInfo {
  return { username: opts.as ?? safeLogin(), groups: opts.asGroup?.length ? opts.asGroup : [...DEFAULT_APPROVER_GROUPS] };
}

function safeLogin(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'local-user';
  }
}

/** namespace/name, or a name in -n's namespace, or a name found in exactly one namespace. */
async function find(store: ApprovalStore, ref: string, namespace?: string): Promise<ApprovalRequest> {
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const ns = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    const r = await store.get(ns, name);
    if (!r) throw new BelayError('not_found', `approval request ${ns}/${name} not found (${store.location})`);
    return r;
  }
  if (namespace) {
    const r = await store.get(namespace, ref);
    if (!r) throw new BelayError('not_found', `approval request ${namespace}/${ref} not found (${store.location})`);
    return r;
  }
  const matches = (await store.list()).filter((r) => r.metadata.name === ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new BelayError('not_found', `no approval request named ${ref} (${store.location}); list them with "belay approvals list"`);
  throw new BelayError('bad_request', `${ref} exists in several namespaces (${matches.map((r) => r.metadata.namespace).join(', ')}); give namespace/name`);
}

interface RunOptions {
  workflow?: string;
  run?: string;
}

/**
 * Decides every pending request of one workflow run (the agent's plan),
 * listed first, one by one: each is checked for separation of duties on its
 * own, and a refusal stops none of the others. Exit 1 when any was refused.
 */
async function decideRun(store: ApprovalStore, ref: string | undefined, decision: HumanDecision, opts: StoreOptions & RunOptions): Promise<void> {
  if (ref !== undefined) throw new BelayError('bad_request', 'give <ref> or --workflow, not both');
  if (!opts.workflow) throw new BelayError('bad_request', 'name the request (namespace/name), or give --workflow to decide a whole workflow run');
  const now = new Date();
  const pending = (await store.list(opts.namespace))
    .filter((r) => phaseOf(r) === 'Pending' && !isLapsed(r, now))
    .filter((r) => r.spec.context?.workflow === opts.workflow && (opts.run === undefined || r.spec.context?.run === opts.run))
    .sort((a, b) => a.spec.requiredBy.localeCompare(b.spec.requiredBy) || refOf(a).localeCompare(refOf(b)));
  const what = `workflow ${opts.workflow}${opts.run !== undefined ? ` run ${opts.run}` : ''}`;
  if (pending.length === 0) throw new BelayError('not_found', `no pending approval requests of ${what} (${store.location})`);
  const runs = new Set(pending.map((r) => r.spec.context?.run ?? ''));
  if (opts.run === undefined && runs.size > 1) {
    throw new BelayError(
      'bad_request',
      `${what} has pending requests of ${runs.size} runs (${[...runs].map((r) => r || '(none)').join(', ')}); choose one with --run`,
    );
  }
  const verb = decision.phase === 'Approved' ? 'approving' : 'rejecting';
  print(`${verb} ${pending.length} pending request${pending.length === 1 ? '' : 's'} of ${what}:\n`);
  let refused = 0;
  for (const r of pending) {
    try {
      const stored = await store.decide(r.metadata.namespace, r.metadata.name, decision, localUser(opts));
      print(
        `  ${decision.phase === 'Approved' ? 'approved' : 'rejected'} ${refOf(stored)} (${target(r)})${stored.status?.decidedBy ? ` by ${stored.status.decidedBy}` : ''}\n`,
      );
    } catch (err) {
      refused++;
      print(`  refused  ${refOf(r)} (${target(r)}): ${asBelayError(err).message}\n`);
    }
  }
  if (refused > 0)
    throw new BelayError(
      'forbidden',
      `${refused} of ${pending.length} requests of ${what} were not ${decision.phase === 'Approved' ? 'approved' : 'rejected'}; see above`,
    );
}

async function decide(store: ApprovalStore, r: ApprovalRequest, decision: HumanDecision, opts: StoreOptions): Promise<void> {
  const who = localUser(opts);
  const stored = await store.decide(r.metadata.namespace, r.metadata.name, decision, who);
  const by = stored.status?.decidedBy ? ` by ${stored.status.decidedBy}` : '';
  if (decision.phase === 'Approved') {
    print(`approved ${refOf(stored)}${by}${decision.override ? ' with an edit' : ''}: ${approvedNote(stored)}\n`);
  } else {
    print(`rejected ${refOf(stored)}${by}: the agent's retries are refused with your message until ${stored.spec.requiredBy}\n`);
  }
}

/** The override an `edit` asks for, from exactly one source. */
async function editOf(r: ApprovalRequest, opts: { patch?: string; patchFile?: string; file?: string; arguments?: string }): Promise<ApprovalOverride> {
  const given = [opts.patch, opts.patchFile, opts.file, opts.arguments].filter((v) => v !== undefined).length;
  if (given > 1) throw new BelayError('bad_request', 'give one of --patch, --patch-file, --file, --arguments');
  if (opts.arguments !== undefined) {
    const args = parseJson(opts.arguments, '--arguments');
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new BelayError('bad_request', '--arguments must be a JSON object');
    return { arguments: args as JsonObject };
  }
  if (opts.patch !== undefined || opts.patchFile !== undefined) {
    const text = opts.patch ?? readText(opts.patchFile!);
    const patch = parseJson(text, opts.patch !== undefined ? '--patch' : opts.patchFile!);
    if (!Array.isArray(patch)) throw new BelayError('bad_request', 'the patch must be a JSON array of RFC 6902 operations');
    return { patch: patch as PatchOperation[] };
  }
  const original = r.spec.object;
  if (!original)
    throw new BelayError('bad_request', `${refOf(r)} has no stored object to edit${r.spec.objectExcerpt ? ' (it was too large to keep); give --patch' : ''}`);
  const edited = opts.file !== undefined ? parseObject(readText(opts.file), opts.file) : editInEditor(original);
  const patch = diff(original, edited);
  if (patch.length === 0)
    throw new BelayError('bad_request', 'the edited object is the same as the requested one; use "belay approvals approve" to approve it unchanged');
  return { patch };
}

function editInEditor(object: JsonObject): JsonObject {
  if (!process.stdin.isTTY) throw new BelayError('bad_request', 'give --patch, --patch-file, --file or --arguments (no terminal for an editor)');
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-edit-'));
  const file = path.join(dir, 'object.yaml');
  try {
    writeFileSync(file, `# Edit the object the agent asked for; save and quit to approve it with your changes.\n# An empty file cancels.\n${toYaml(object)}`);
    const r = spawnSync(editor, [file], { stdio: 'inherit', shell: true });
    if (r.status !== 0) throw new BelayError('bad_request', `${editor} exited with status ${r.status}; nothing was decided`);
    const text = readFileSync(file, 'utf8');
    if (text.replace(/^#.*$/gm, '').trim() === '') throw new BelayError('bad_request', 'empty file: edit cancelled, nothing was decided');
    return parseObject(text, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new BelayError('bad_request', `cannot read ${file}: ${(err as Error).message}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BelayError('bad_request', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseObject(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new BelayError('bad_request', `${what} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BelayError('bad_request', `${what} must hold one object`);
  return value as JsonObject;
}

function indent(text: string): string[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
}

function print(text: string): void {
  process.stdout.write(text);
}

function target(r: ApprovalRequest): string {
  const q = r.spec.request;
  const what = q.tool ? `tool ${q.tool}` : `${q.kind || q.resource}${q.subresource ? `/${q.subresource}` : ''}`;
  const where = [q.namespace, q.name].filter(Boolean).join('/');
  return `${what}${where ? ` ${where}` : ''}`;
}

function timeLeft(r: ApprovalRequest, now: Date): string {
  const phase = phaseOf(r);
  if (phase !== 'Pending' && phase !== 'Approved') return '-';
  if (isLapsed(r, now)) return 'lapsed';
  return formatDuration(Date.parse(r.spec.requiredBy) - now.getTime());
}

function age(r: ApprovalRequest, now: Date): string {
  const t = Date.parse(r.metadata.creationTimestamp ?? '');
  return Number.isFinite(t) ? formatDuration(Math.max(0, now.getTime() - t)) : '-';
}

function table(items: readonly ApprovalRequest[], wide: boolean, now: Date): string {
  const head = ['NAMESPACE', 'NAME', 'PHASE', 'REQUESTER', 'ACTION', 'TARGET', 'AGE', 'EXPIRES IN', ...(wide ? ['RULE', 'DECIDED BY', 'OUTCOME'] : [])];
  const rows = items.map((r) => [
    r.metadata.namespace,
    r.metadata.name,
    phaseOf(r),
    r.spec.requester.user,
    r.spec.request.operation,
    target(r),
    age(r, now),
    timeLeft(r, now),
    ...(wide
      ? [
          r.spec.reasons[0]?.rule ?? '-',
          r.status?.decidedBy ?? '-',
          r.status?.outcome ? `${r.status.outcome.result}${r.status.outcome.reason ? ` (${r.status.outcome.reason})` : ''}` : '-',
        ]
      : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')}\n`;
  return [line(head), ...rows.map(line)].join('');
}

function describe(r: ApprovalRequest, now: Date, others: readonly ApprovalRequest[] = []): string {
  const s = r.status;
  const phase = phaseOf(r);
  const q = r.spec.request;
  const lines: string[] = [];
  const field = (name: string, value: string) => lines.push(`${`${name}:`.padEnd(14)}${value}`);
  field('Name', refOf(r));
  field(
    'Phase',
    `${phase}${phase === 'Pending' || phase === 'Approved' ? ` (${isLapsed(r, now) ? 'lapsed' : `expires in ${timeLeft(r, now)}`}, at ${r.spec.requiredBy})` : ''}`,
  );
  field(
    'Requester',
    `${r.spec.requester.user}${r.spec.requester.onBehalfOf ? ` on behalf of ${r.spec.requester.onBehalfOf}` : ''}${r.spec.requester.groups.length ? ` (groups: ${r.spec.requester.groups.join(', ')})` : ''}`,
  );
  field('Request', `${q.operation} ${[q.group, q.version].filter(Boolean).join('/') || 'v1'} ${target(r)}`);
  field('Approvers', r.spec.approverGroups.join(', '));
  field('Risk', r.spec.risk);
  field('Bundle', `${r.spec.bundleRevision || '-'}${r.spec.bundleDigest ? ` (digest ${r.spec.bundleDigest})` : ''}`);
  const { prompt, ...context } = r.spec.context ?? {};
  const ctx = Object.entries(context).map(([k, v]) => `${k}=${String(v)}`);
  if (ctx.length) field('Context', ctx.join(', '));
  if (prompt) lines.push('Prompt (secrets redacted):', ...indent(prompt));
  lines.push('Why:');
  for (const reason of r.spec.reasons) lines.push(`  - ${reason.message} [rule ${reason.rule}, ${reason.severity}]`);
  if (r.spec.fixes.length) {
    lines.push('Proposed fix (belay approvals approve --apply-fixes):');
    lines.push(
      ...toYaml(r.spec.fixes)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (r.spec.tool) {
    lines.push('Tool call:');
    lines.push(
      ...toYaml(r.spec.tool)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (q.operation === 'UPDATE') {
    const before = r.spec.oldObject ? redactedObject(r.spec.oldObject) : null;
    const after = r.spec.object ? redactedObject(r.spec.object) : null;
    lines.push('Change against the live object:');
    if (before && after) {
      const mark = { add: '+', remove: '-', context: ' ', hunk: '' } as const;
      lines.push(...yamlDiff(before, after).map((l) => `  ${mark[l.kind]}${l.text}`));
    } else lines.push(`  (${r.spec.oldObjectExcerpt ?? 'the live object was not recorded'})`);
  }
  field('Object', r.spec.objectDigest);
  if (r.spec.object)
    lines.push(
      ...toYaml(r.spec.object)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  else if (r.spec.objectExcerpt) lines.push(`  (too large to keep; first bytes) ${r.spec.objectExcerpt}`);
  if (s?.decidedBy)
    field('Decided', `${phase === 'Rejected' ? 'rejected' : 'approved'} by ${s.decidedBy} at ${s.decidedAt ?? '?'}${s.message ? `: ${s.message}` : ''}`);
  if (s?.override) {
    lines.push('Edit:');
    lines.push(
      ...toYaml(s.override)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (s?.consumption) field('Used by', `request ${s.consumption.requestUid} at ${s.consumption.at} (${s.consumption.objectDigest})`);
  if (r.spec.remedy) field('Remedy of', `${r.spec.remedy.for} (${r.spec.remedy.kind}; it failed: ${r.spec.remedy.reason})`);
  const outcome = s?.outcome;
  if (outcome) {
    field('Outcome', `${outcome.result}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.message ? `: ${outcome.message}` : ''}`);
    for (const e of outcome.evidence ?? []) lines.push(`  - ${e}`);
    if (outcome.remedy) field('Remedy', `${outcome.remedy.note}${outcome.remedy.approval ? ` [${outcome.remedy.approval}]` : ''}`);
  }
  if (phase === 'Approved' && r.spec.remedy) lines.push('', `Apply it yourself: belay approvals apply ${refOf(r)}   (or the agent applies it)`);
  for (const n of s?.notifications ?? []) {
    field(
      'Notified',
      `${n.event} → ${n.channel}: ${n.state}${n.at ? ` at ${n.at}` : ''}${n.attempts > 1 ? ` (${n.attempts} attempts)` : ''}${n.reason ? ` (${n.reason})` : ''}`,
    );
  }
  const history = targetHistory(others, r);
  if (history.length) {
    lines.push('History of this object:');
    for (const h of history) {
      const decided = h.decidedBy ? `, ${h.phase === 'Rejected' ? 'rejected' : 'decided'} by ${h.decidedBy}` : '';
      const outcome = h.outcome ? `, outcome ${h.outcome.result}${h.outcome.message ? `: ${h.outcome.message}` : ''}` : '';
      lines.push(
        `  - ${h.id} ${h.operation} by ${h.requester} at ${h.createdAt ?? '?'}: ${h.phase}${decided}${h.message ? ` ("${h.message}")` : ''}${outcome}`,
      );
    }
  }
  if (phase === 'Pending') {
    lines.push('', `Decide: belay approvals approve ${refOf(r)}   |   belay approvals reject ${refOf(r)} -m <why>   |   belay approvals edit ${refOf(r)}`);
  }
  return `${lines.join('\n')}\n`;
}
