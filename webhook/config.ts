// The gateway's configuration, mapped once: the `serve` command's flags (and
// their BELAY_* environment variables) become one typed GatewayConfig, and
// every default lives here. startGateway takes the same shape with any part
// left out (tests), filled from the same defaults.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_APPROVER_GROUPS } from '../src/approvals/resource.js';
import type { BundleSourceSpec } from '../src/bundle/select.js';
import { readVerificationKey, type VerificationConfig, verificationConfig } from '../src/bundle/verify.js';
import { asBelayError } from '../src/errors.js';
import type { DecisionLogOptions } from '../src/observe/decision-log.js';
import { DEFAULT_EVAL_TIMEOUT_MS } from '../src/policy/pool.js';
import { DEFAULT_TIMEOUT_MS as DEFAULT_SCAN_TIMEOUT_MS } from '../src/scan/index.js';
import { parseDuration } from '../src/util/duration.js';
import { DEFAULT_BODY_LIMIT } from './body.js';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** ca.crt, tls.crt, tls.key; a development CA is made here when absent. */
  readonly tlsDir: string;
  /** Where bundles come from: a file, a watched directory or an HTTP bundle server. */
  readonly bundle: BundleSourceSpec;
  /** Keys bundles must be signed with; null accepts unsigned bundles only. */
  readonly verification: VerificationConfig | null;
  /** The cluster to watch namespaces in and keep approvals in; local mode without it. */
  readonly kubeconfig: string | undefined;
  /** Largest request body of the admission and agent faces. */
  readonly bodyLimit: number;
  readonly evaluation: {
    /** `in-process` runs wasm on the event loop: no time budget can cut it off; for debugging. */
    readonly mode: 'pool' | 'in-process';
    /** Worker threads per bundle revision; undefined: the cores. */
    readonly workers: number | undefined;
    /** Budget of one evaluation; past it the request fails closed. */
    readonly timeoutMs: number;
  };
  readonly approvals: {
    /** Local store directory (local mode). */
    readonly stateDir: string;
    /** Where approvals for cluster-scoped requests and tool calls live, and the Lease. */
    readonly namespace: string;
    /** Who decides when policy names no approver groups. */
    readonly approverGroups: readonly string[];
    /** The gateway's username to the API server; asked of the API server when absent. */
    readonly gatewayUser: string | undefined;
    /** Overrides the policy's approval ttl (tests, drills). */
    readonly ttlMs: number | undefined;
    /** How long finished approvals are kept before they are deleted; undefined: 24h. */
    readonly retentionMs: number | undefined;
  };
  readonly agentApi: {
    /** Static bearer tokens (local mode); without it tokens are checked with a TokenReview in a cluster. */
    readonly tokenFile: string | undefined;
    /** Audiences a TokenReview of an agent API token requires. */
    readonly audiences: readonly string[];
    /** Time budget of the secret scan of one prompt or tool result; past it the content is withheld and deferred. */
    readonly scanTimeoutMs: number;
  };
  readonly console: {
    /** Local mode: approvers' bearer tokens (in a cluster approvers bring their own Kubernetes tokens). */
    readonly approverTokenFile: string | undefined;
  };
  /** Decisions as JSON lines; null: no decision log. */
  readonly decisionLog: Omit<DecisionLogOptions, 'onError'> | null;
  readonly notifications: {
    /** Channels and delivery settings (YAML, src/notify/config.ts); undefined: no notifications. */
    readonly configFile: string | undefined;
    /** How often the outbox looks for due notifications (tests). */
    readonly tickMs: number | undefined;
  };
}

type Sections = 'evaluation' | 'approvals' | 'agentApi' | 'console' | 'decisionLog' | 'notifications';

/** A GatewayConfig with any part left out, sections member by member: the defaults fill it. */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, Sections>> & {
  readonly [K in Exclude<Sections, 'decisionLog'>]?: Partial<GatewayConfig[K]>;
} & {
  readonly decisionLog?: (Partial<NonNullable<GatewayConfig['decisionLog']>> & Pick<NonNullable<GatewayConfig['decisionLog']>, 'destination'>) | null;
};

export const DEFAULT_BUNDLE = '.build/bundle.tar.gz';

export const DEFAULTS: GatewayConfig = {
  host: '127.0.0.1',
  port: 8443,
  tlsDir: '.belay/tls',
  bundle: { file: DEFAULT_BUNDLE },
  verification: null,
  kubeconfig: undefined,
  bodyLimit: DEFAULT_BODY_LIMIT,
  evaluation: { mode: 'pool', workers: undefined, timeoutMs: DEFAULT_EVAL_TIMEOUT_MS },
  approvals: {
    stateDir: '.belay/state',
    namespace: 'belay',
    approverGroups: DEFAULT_APPROVER_GROUPS,
    gatewayUser: undefined,
    ttlMs: undefined,
    retentionMs: undefined,
  },
  agentApi: { tokenFile: undefined, audiences: [], scanTimeoutMs: DEFAULT_SCAN_TIMEOUT_MS },
  console: { approverTokenFile: undefined },
  decisionLog: null,
  notifications: { configFile: undefined, tickMs: undefined },
};

/** `input` with every part it leaves out taken from DEFAULTS. */
export function resolveConfig(input: GatewayConfigInput): GatewayConfig {
  const d = DEFAULTS;
  return {
    host: input.host ?? d.host,
    port: input.port ?? d.port,
    tlsDir: input.tlsDir ?? d.tlsDir,
    bundle: input.bundle ?? d.bundle,
    verification: input.verification ?? d.verification,
    kubeconfig: input.kubeconfig ?? d.kubeconfig,
    bodyLimit: input.bodyLimit ?? d.bodyLimit,
    evaluation: { ...d.evaluation, ...defined(input.evaluation) },
    approvals: { ...d.approvals, ...defined(input.approvals) },
    agentApi: { ...d.agentApi, ...defined(input.agentApi) },
    console: { ...d.console, ...defined(input.console) },
    decisionLog: input.decisionLog ?? null,
    notifications: { ...d.notifications, ...defined(input.notifications) },
  };
}

/** The members of `o` that are set: an explicit undefined never hides a default. */
function defined<T extends object>(o: T | null | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What the serve command's flags hold, as commander parses them. */
export interface ServeFlags {
  listen: string;
  bundle: string;
  bundleDir?: string;
  bundleUrl?: string;
  watch?: boolean;
  bundleCa?: string;
  bundleTokenFile?: string;
  bundlePoll: [number, number];
  verificationKey?: string[];
  verificationKeyId?: string;
  signingAlg: string;
  scope?: string;
  excludeFilesVerify?: string[];
  decisionLog?: string;
  decisionLogMaxBytes: number;
  decisionLogMaxFiles: number;
  tlsDir: string;
  kubeconfig?: string;
  bodyLimit: number;
  logLevel: string;
  evaluator: 'pool' | 'in-process';
  evalWorkers?: number;
  evalTimeoutMs: number;
  stateDir: string;
  gatewayUser?: string;
  approvalsNamespace: string;
  approverGroup: string[];
  approvalTtl?: number;
  approvalRetention?: number;
  agentTokenFile?: string;
  agentTokenAudience?: string[];
  scanTimeout: number;
  approverTokenFile?: string;
  devTokens?: string;
  notifyConfig?: string;
}

/** Adds the serve command's flags; each defaults to its BELAY_* variable, then to DEFAULTS. */
export function addServeFlags(command: Command): Command {
  const env = process.env;
  const d = DEFAULTS;
  return command
    .option('--listen <host:port>', 'address to serve on', env.BELAY_LISTEN ?? `${d.host}:${d.port}`)
    .option('--bundle <file>', 'policy bundle (.tar.gz) to serve', env.BELAY_BUNDLE ?? DEFAULT_BUNDLE)
    .option('--bundle-dir <dir>', 'serve the bundle in this directory (unpacked, or one .tar.gz) and reload it when it changes', env.BELAY_BUNDLE_DIR)
    .option('--bundle-url <url>', 'poll this bundle server (ETag / If-None-Match) and reload new bundles', env.BELAY_BUNDLE_URL)
    .option('--watch', 'reload --bundle when the file changes')
    .option('--bundle-ca <file>', 'CA certificate (PEM) of the --bundle-url server', env.BELAY_BUNDLE_CA)
    .option('--bundle-token-file <file>', 'bearer token for --bundle-url, re-read on every poll', env.BELAY_BUNDLE_TOKEN_FILE)
    .addOption(
      new Option('--bundle-poll <seconds>', 'delay between polls of --bundle-url: N, or MIN:MAX for a jittered delay')
        .argParser(pollRange)
        .default(pollRange(env.BELAY_BUNDLE_POLL ?? '10:30'), '10:30'),
    )
    .option(
      '--verification-key <file...>',
      'public key (PEM) bundles must be signed with; name it with id=file; repeat for several',
      env.BELAY_VERIFICATION_KEY?.split(','),
    )
    .option('--verification-key-id <id>', 'key to verify with, whatever the signature names', env.BELAY_VERIFICATION_KEY_ID)
    .option('--signing-alg <alg>', 'algorithm of the verification keys (RS256, ES256, PS256, EdDSA, HS256…)', env.BELAY_SIGNING_ALG ?? 'RS256')
    .option('--scope <scope>', 'scope a bundle signature must state', env.BELAY_BUNDLE_SCOPE)
    .option('--exclude-files-verify <glob...>', 'bundle files left out of signature verification')
    .option('--decision-log <file>', 'write every decision as a JSON line to this file ("-" for stdout), secrets redacted', env.BELAY_DECISION_LOG)
    .addOption(
      new Option('--decision-log-max-bytes <bytes>', 'rotate the decision log past this size')
        .argParser(nonNegativeInt('--decision-log-max-bytes'))
        .default(100 * 1024 * 1024),
    )
    .addOption(new Option('--decision-log-max-files <n>', 'rotated decision logs kept').argParser(nonNegativeInt('--decision-log-max-files')).default(5))
    .option('--tls-dir <dir>', 'directory holding ca.crt, tls.crt, tls.key (a development CA is made there when absent)', env.BELAY_TLS_DIR ?? d.tlsDir)
    .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch namespaces and store approvals in (local mode without it)', env.BELAY_KUBECONFIG)
    .addOption(new Option('--body-limit <bytes>', 'largest request body accepted').argParser(positiveInt('--body-limit')).default(d.bodyLimit))
    .option('--log-level <level>', 'log level', env.BELAY_LOG_LEVEL ?? 'info')
    .addOption(
      new Option('--evaluator <mode>', 'where policy runs: a pool of worker threads, or in-process on the event loop (debugging; no time budget)')
        .choices(['pool', 'in-process'])
        .default(env.BELAY_EVALUATOR ?? d.evaluation.mode),
    )
    .addOption(new Option('--eval-workers <n>', 'policy worker threads per bundle (default: the cores)').argParser(positiveInt('--eval-workers')))
    .addOption(
      new Option('--eval-timeout-ms <ms>', 'budget of one policy evaluation; past it the worker is replaced and the agent request refused')
        .argParser(positiveInt('--eval-timeout-ms'))
        .default(d.evaluation.timeoutMs),
    )
    .option('--state-dir <dir>', 'local approval store, used without --kubeconfig', env.BELAY_STATE_DIR ?? d.approvals.stateDir)
    .option(
      '--gateway-user <name>',
      "the gateway's username to the API server, allowed to mark approvals Consumed or Expired (default: asked of the API server)",
      env.BELAY_GATEWAY_USER,
    )
    .option(
      '--approvals-namespace <ns>',
      'namespace for approvals of cluster-scoped requests and the expiry Lease',
      env.BELAY_APPROVALS_NAMESPACE ?? d.approvals.namespace,
    )
    .option(
      '--approver-group <group...>',
      'who may decide when policy names no approver groups',
      env.BELAY_APPROVER_GROUPS?.split(',') ?? [...d.approvals.approverGroups],
    )
    .addOption(
      new Option('--approval-ttl <duration>', "time to live of new approval requests, overriding the policy's approval.ttl (e.g. 30s for drills)")
        .argParser(durationMs)
        .default(env.BELAY_APPROVAL_TTL ? durationMs(env.BELAY_APPROVAL_TTL) : undefined),
    )
    .addOption(
      new Option('--approval-retention <duration>', 'how long finished approval requests (consumed, rejected, expired) are kept before they are deleted')
        .argParser(durationMs)
        .default(env.BELAY_APPROVAL_RETENTION ? durationMs(env.BELAY_APPROVAL_RETENTION) : undefined, '24h'),
    )
    .option(
      '--agent-token-file <file>',
      'agent API bearer tokens (YAML list of {token, username, groups}); without it, tokens are checked with a TokenReview against --kubeconfig',
      env.BELAY_AGENT_TOKEN_FILE,
    )
    .option('--agent-token-audience <aud...>', 'audiences a TokenReview of an agent API token must be valid for', env.BELAY_AGENT_TOKEN_AUDIENCE?.split(','))
    .addOption(
      new Option('--scan-timeout <duration>', 'time budget of the secret scan of one prompt or tool result; past it the content is withheld and deferred')
        .argParser(durationMs)
        .default(env.BELAY_SCAN_TIMEOUT ? durationMs(env.BELAY_SCAN_TIMEOUT) : d.agentApi.scanTimeoutMs, '2s'),
    )
    .option(
      '--dev-tokens <dir>',
      'local mode: make (once) and use an approver and an agent token in this directory, for the console and the agent API (make run uses .belay/tokens)',
    )
    .option(
      '--approver-token-file <file>',
      "approvals console (/console/) in local mode: approvers' bearer tokens (YAML list of {token, username, groups}); with --kubeconfig approvers use their own Kubernetes tokens instead",
      env.BELAY_APPROVER_TOKEN_FILE,
    )
    .option(
      '--notify-config <file>',
      'notification channels (Slack, Teams, webhook/CloudEvents, email) and delivery settings, YAML; which requests go where is policy data (data.belay.config.notifications)',
      env.BELAY_NOTIFY_CONFIG,
    );
}

/** The flags as a GatewayConfig. Throws for contradictions; `devTokens` are the files --dev-tokens made. */
export function configFromFlags(flags: ServeFlags, devTokens?: { agents: string; approvers: string }): GatewayConfig {
  const listen = /^(.*):(\d+)$/.exec(flags.listen);
  if (!listen) throw new InvalidArgumentError(`--listen must be host:port, got ${flags.listen}`);
  const keys = (flags.verificationKey ?? []).map((k) =>
    readVerificationKey(k, { algorithm: flags.signingAlg, ...(flags.scope !== undefined ? { scope: flags.scope } : {}) }),
  );
  const bundle: BundleSourceSpec = flags.bundleUrl
    ? {
        url: flags.bundleUrl,
        http: {
          minDelayMs: flags.bundlePoll[0],
          maxDelayMs: flags.bundlePoll[1],
          ...(flags.bundleCa ? { caFile: flags.bundleCa } : {}),
          ...(flags.bundleTokenFile ? { tokenFile: flags.bundleTokenFile } : {}),
        },
      }
    : flags.bundleDir
      ? { dir: flags.bundleDir }
      : { file: flags.bundle, watchFile: flags.watch === true };
  return resolveConfig({
    host: listen[1]!.replace(/^\[|\]$/g, ''),
    port: Number(listen[2]),
    tlsDir: flags.tlsDir,
    bundle,
    verification:
      keys.length > 0
        ? verificationConfig(keys, {
            ...(flags.verificationKeyId ? { keyId: flags.verificationKeyId } : {}),
            ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
            ...(flags.excludeFilesVerify ? { exclude: flags.excludeFilesVerify } : {}),
          })
        : null,
    kubeconfig: flags.kubeconfig,
    bodyLimit: flags.bodyLimit,
    evaluation: { mode: flags.evaluator, workers: flags.evalWorkers, timeoutMs: flags.evalTimeoutMs },
    approvals: {
      stateDir: flags.stateDir,
      namespace: flags.approvalsNamespace,
      approverGroups: flags.approverGroup,
      gatewayUser: flags.gatewayUser,
      ttlMs: flags.approvalTtl,
      retentionMs: flags.approvalRetention,
    },
    agentApi: { tokenFile: flags.agentTokenFile ?? devTokens?.agents, audiences: flags.agentTokenAudience ?? [], scanTimeoutMs: flags.scanTimeout },
    console: { approverTokenFile: flags.approverTokenFile ?? devTokens?.approvers },
    decisionLog: flags.decisionLog ? { destination: flags.decisionLog, maxBytes: flags.decisionLogMaxBytes, maxFiles: flags.decisionLogMaxFiles } : null,
    notifications: { configFile: flags.notifyConfig },
  });
}

function pollRange(value: string): [number, number] {
  const m = /^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--bundle-poll must be seconds or min:max seconds, got ${JSON.stringify(value)}`);
  const min = Number(m[1]) * 1000;
  const max = m[2] ? Number(m[2]) * 1000 : min;
  if (min <= 0 || max < min) throw new InvalidArgumentError('--bundle-poll needs 0 < min <= max');
  return [min, max];
}

function nonNegativeInt(flag: string): (value: string) => number {
  return function parse(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
    return n;
  };
}

function positiveInt(flag: string): (value: string) => number {
  return function parse(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(asBelayError(err).message);
  }
}
