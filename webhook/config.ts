// The gateway's configuration, mapped once: the `serve` command's flags (and
// their BELAY_* environment variables) become one typed GatewayConfig, and
// every default lives here. startGateway takes the same shape with any part
// left out (tests), filled from the same defaults.

import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_MAX_OPEN_PER_REQUESTER, DEFAULT_MAX_OPEN_PER_TARGET } from '../src/approvals/lifecycle.js';
import { DEFAULT_APPROVER_GROUPS } from '../src/approvals/resource.js';
import { type BundleSourceSpec, DEFAULT_BUNDLE } from '../src/bundle/select.js';
import { readVerificationKey, type VerificationConfig, verificationConfig } from '../src/bundle/verify.js';
import { type ClusterAccess, chooseClusterAccess, ownNamespace, type PodEnvironment, podEnvironment } from '../src/cluster/access.js';
import type { JsonObject } from '../src/contract/index.js';
import { asBelayError } from '../src/errors.js';
import { DEFAULT_INVENTORY_MAX_BYTES } from '../src/gatekeeper/sync.js';
import { type AgentSelector, agentSelectorFromData, DEFAULT_AGENTS } from '../src/identity/agents.js';
import { checkImageLookupConfig, type ImageLookupConfig, PUBLIC_REGISTRIES, parseHostList, parseRegistryFlag, registriesOf } from '../src/images/config.js';
import type { DecisionLogOptions } from '../src/observe/decision-log.js';
import { DEFAULT_SHIP } from '../src/observe/ship.js';
import type { FsyncPolicy } from '../src/observe/spool.js';
import { DEFAULT_EVAL_TIMEOUT_MS } from '../src/policy/pool.js';
import { DEFAULT_TIMEOUT_MS as DEFAULT_SCAN_TIMEOUT_MS } from '../src/scan/index.js';
import type { WebhookRef } from '../src/tls/controller.js';
import { parseDuration } from '../src/util/duration.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_JSON_SHAPE, type JsonShapeLimits } from './body.js';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** ca.crt, tls.crt, tls.key, reloaded when they change; outside a pod a development CA is made here when absent. Unused with tlsSecret. */
  readonly tlsDir: string;
  /**
   * Only the API server may call the admission, approvals and authorization
   * faces: its client certificate must be signed by `caFile` and carry one of
   * `names` (any name when empty). Off without `caFile`.
   */
  readonly webhookClients: { readonly caFile: string | undefined; readonly names: readonly string[] };
  /** TLS mode self: belay keeps its CA and certificate in this Secret (leader-elected rotation); null: the files in tlsDir. */
  readonly tlsSecret: TlsSecretConfig | null;
  /** Where bundles come from: a file, a watched directory or an HTTP bundle server. */
  readonly bundle: BundleSourceSpec;
  /** Keys bundles must be signed with; null accepts unsigned bundles only. */
  readonly verification: VerificationConfig | null;
  /** Where approvals, identities and namespace labels live: local (no cluster), a kubeconfig file, or the pod's service account. */
  readonly cluster: ClusterAccess;
  /** JSON laid over data.belay.config of every bundle (the chart's ConfigMap), re-read when it changes; null: none. */
  readonly configOverlay: string | null;
  /** Who is an agent until a bundle is active: refused then (fail closed), while everyone else passes untouched. */
  readonly agentsBeforeBundle: AgentSelector;
  /** Largest request body of the admission and agent faces. */
  readonly bodyLimit: number;
  /** How deep, and how many objects, arrays and members, a JSON body may hold (checked before it is parsed). */
  readonly bodyShape: JsonShapeLimits;
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
    /** Requests that may wait for a human at once for one target (different content), and from one requester. */
    readonly maxOpenPerTarget: number;
    readonly maxOpenPerRequester: number;
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
    /** Serve the approvals console at /console/. */
    readonly enabled: boolean;
    /** Local mode: approvers' bearer tokens (in a cluster approvers bring their own Kubernetes tokens). */
    readonly approverTokenFile: string | undefined;
  };
  /** Gatekeeper's data.inventory: watched in the cluster (the bundle's sync set), or read from files. */
  readonly inventory: {
    /** Local mode: YAML objects (a file or folder); with a kubeconfig the cluster is watched instead. */
    readonly files: string | undefined;
    /** Bound on the serialised inventory (bytes). */
    readonly maxBytes: number;
  };
  /** Decisions as JSON lines; null: no decision log. */
  readonly decisionLog: Omit<DecisionLogOptions, 'onError' | 'forward' | 'onDrop'> | null;
  /** Decisions shipped to an HTTP service in OPA's decision-log format through an on-disk spool; null: not shipped. */
  readonly decisionShipping: DecisionShippingConfig | null;
  /** Image facts for fixes whose safety depends on the image (docs/images.md). */
  readonly images: ImageLookupConfig;
  readonly notifications: {
    /** Channels and delivery settings (YAML, src/notify/config.ts); undefined: no notifications. */
    readonly configFile: string | undefined;
    /** How often the outbox looks for due notifications (tests). */
    readonly tickMs: number | undefined;
  };
  /** On SIGTERM: how long to stay up not ready (load balancers notice), and how long requests in flight may take after that. */
  readonly shutdown: { readonly delayMs: number; readonly graceMs: number };
  /** How often the API server is asked whether it answers, and after how many misses the gateway is not ready. */
  readonly apiServerCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly failures: number };
}

/** Where decisions are shipped (--decision-log-service) and how they are spooled on the way. */
export interface DecisionShippingConfig {
  readonly url: string;
  /** The service's decision-log path (OPA's default: /logs). */
  readonly resource: string;
  readonly caFile: string | undefined;
  readonly tokenFile: string | undefined;
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly backoffMaxMs: number;
}

/** TLS mode self (--tls-secret): what the certificate controller keeps and where it writes the CA. */
export interface TlsSecretConfig {
  /** The Secret, in the gateway's namespace. */
  readonly name: string;
  /** DNS names and IP addresses of the serving certificate (--tls-san). */
  readonly hosts: readonly string[];
  readonly certValidityMs: number;
  readonly caValidityMs: number;
  /** Webhook configurations whose caBundle is the CA bundle (--ca-bundle-webhook). */
  readonly webhooks: readonly WebhookRef[];
  /** A ConfigMap in the gateway's namespace whose ca.crt is the CA bundle (--ca-configmap). */
  readonly configMap: string | undefined;
}

type Sections =
  | 'webhookClients'
  | 'bodyShape'
  | 'evaluation'
  | 'approvals'
  | 'agentApi'
  | 'console'
  | 'inventory'
  | 'decisionLog'
  | 'decisionShipping'
  | 'images'
  | 'notifications';

/**
 * A GatewayConfig with any part left out, sections member by member: the
 * defaults fill it. `kubeconfig` is short for cluster {kind: kubeconfig};
 * left out entirely, an embedded gateway (tests) runs locally — the `serve`
 * command never does so unasked (configFromFlags).
 */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, Sections>> & { readonly kubeconfig?: string | undefined } & {
  readonly [K in Exclude<Sections, 'decisionLog' | 'decisionShipping'>]?: Partial<GatewayConfig[K]>;
} & {
  readonly decisionLog?: (Partial<NonNullable<GatewayConfig['decisionLog']>> & Pick<NonNullable<GatewayConfig['decisionLog']>, 'destination'>) | null;
  readonly decisionShipping?: (Partial<DecisionShippingConfig> & Pick<DecisionShippingConfig, 'url'>) | null;
};

/** Shipping's defaults: OPA's resource, a 64 MiB spool fsynced every second, backoff up to 10 s. */
export const DEFAULT_SHIPPING: Omit<DecisionShippingConfig, 'url'> = {
  resource: DEFAULT_SHIP.resource,
  caFile: undefined,
  tokenFile: undefined,
  spoolDir: '.belay/decision-spool',
  spoolMaxBytes: DEFAULT_SHIP.spoolMaxBytes,
  fsync: DEFAULT_SHIP.fsync,
  fsyncIntervalMs: DEFAULT_SHIP.fsyncIntervalMs,
  labels: {},
  backoffMaxMs: DEFAULT_SHIP.backoffMaxMs,
};

export { DEFAULT_BUNDLE };

/** Lifetimes of TLS mode self: a CA for ten years (as Gatekeeper's cert-controller), certificates for 90 days (cert-manager's default); each renewed with a third left. */
export const DEFAULT_TLS_CERT_DURATION = '2160h';
export const DEFAULT_TLS_CA_DURATION = '87600h';

export const DEFAULTS: GatewayConfig = {
  host: '127.0.0.1',
  port: 8443,
  tlsDir: '.belay/tls',
  webhookClients: { caFile: undefined, names: [] },
  tlsSecret: null,
  bundle: { file: DEFAULT_BUNDLE },
  verification: null,
  cluster: { kind: 'local' },
  configOverlay: null,
  agentsBeforeBundle: DEFAULT_AGENTS,
  bodyLimit: DEFAULT_BODY_LIMIT,
  bodyShape: DEFAULT_JSON_SHAPE,
  evaluation: { mode: 'pool', workers: undefined, timeoutMs: DEFAULT_EVAL_TIMEOUT_MS },
  approvals: {
    stateDir: '.belay/state',
    namespace: 'belay',
    approverGroups: DEFAULT_APPROVER_GROUPS,
    gatewayUser: undefined,
    ttlMs: undefined,
    retentionMs: undefined,
    maxOpenPerTarget: DEFAULT_MAX_OPEN_PER_TARGET,
    maxOpenPerRequester: DEFAULT_MAX_OPEN_PER_REQUESTER,
  },
  agentApi: { tokenFile: undefined, audiences: [], scanTimeoutMs: DEFAULT_SCAN_TIMEOUT_MS },
  console: { enabled: true, approverTokenFile: undefined },
  inventory: { files: undefined, maxBytes: DEFAULT_INVENTORY_MAX_BYTES },
  decisionLog: null,
  decisionShipping: null,
  // The webhook answers well inside the API server's 5 s timeout: 2 s for all of a request's lookups.
  images: { registries: PUBLIC_REGISTRIES, insecureRegistries: [], dockerConfig: undefined, pullSecrets: true, platform: 'linux/amd64', timeoutMs: 2_000 },
  notifications: { configFile: undefined, tickMs: undefined },
  // Within the chart's 30 s termination grace: 5 s preStop + 2 s + 15 s + the decision log's last upload (5 s).
  shutdown: { delayMs: 2_000, graceMs: 15_000 },
  apiServerCheck: { intervalMs: 5_000, timeoutMs: 3_000, failures: 2 },
};

/** `input` with every part it leaves out taken from DEFAULTS. */
export function resolveConfig(input: GatewayConfigInput): GatewayConfig {
  const d = DEFAULTS;
  return {
    host: input.host ?? d.host,
    port: input.port ?? d.port,
    tlsDir: input.tlsDir ?? d.tlsDir,
    webhookClients: { ...d.webhookClients, ...defined(input.webhookClients) },
    tlsSecret: input.tlsSecret ?? d.tlsSecret,
    bundle: input.bundle ?? d.bundle,
    verification: input.verification ?? d.verification,
    cluster: input.cluster ?? (input.kubeconfig ? { kind: 'kubeconfig', file: input.kubeconfig } : d.cluster),
    configOverlay: input.configOverlay ?? d.configOverlay,
    agentsBeforeBundle: input.agentsBeforeBundle ?? d.agentsBeforeBundle,
    bodyLimit: input.bodyLimit ?? d.bodyLimit,
    bodyShape: { ...d.bodyShape, ...defined(input.bodyShape) },
    evaluation: { ...d.evaluation, ...defined(input.evaluation) },
    approvals: { ...d.approvals, ...defined(input.approvals) },
    agentApi: { ...d.agentApi, ...defined(input.agentApi) },
    console: { ...d.console, ...defined(input.console) },
    inventory: { ...d.inventory, ...defined(input.inventory) },
    decisionLog: input.decisionLog ?? null,
    decisionShipping: input.decisionShipping ? { ...DEFAULT_SHIPPING, ...defined(input.decisionShipping), url: input.decisionShipping.url } : null,
    images: { ...d.images, ...defined(input.images) },
    notifications: { ...d.notifications, ...defined(input.notifications) },
    shutdown: { ...d.shutdown, ...defined(input.shutdown) },
    apiServerCheck: { ...d.apiServerCheck, ...defined(input.apiServerCheck) },
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
  inventory?: string;
  inventoryMaxBytes: number;
  decisionLogMaxBytes: number;
  decisionLogMaxFiles: number;
  decisionLogService?: string;
  decisionLogResource: string;
  decisionLogServiceCa?: string;
  decisionLogServiceTokenFile?: string;
  decisionLogSpool: string;
  decisionLogSpoolMaxBytes: number;
  decisionLogFsync: FsyncPolicy;
  decisionLogFsyncInterval: number;
  decisionLogLabel?: string[];
  decisionLogBackoffMax: number;
  shutdownDelay: number;
  shutdownGrace: number;
  tlsDir?: string;
  local?: boolean;
  webhookClientCa?: string;
  webhookClientName?: string[];
  kubeconfig?: string;
  agentsFile?: string;
  bodyLimit: number;
  bodyMaxDepth: number;
  bodyMaxContainers: number;
  bodyMaxMembers: number;
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
  maxOpenApprovalsPerTarget: number;
  maxOpenApprovalsPerRequester: number;
  agentTokenFile?: string;
  agentTokenAudience?: string[];
  scanTimeout: number;
  approverTokenFile?: string;
  devTokens?: string;
  /** The registries flag: host patterns, ["*"] for any (commander turns a parsed null into ""). */
  imageRegistries: string[];
  insecureRegistries: string[];
  dockerConfig?: string;
  imagePullSecrets: boolean;
  imagePlatform: string;
  imageTimeout: number;
  configOverlay?: string;
  console: boolean;
  tlsSecret?: string;
  tlsSan?: string[];
  tlsCertDuration: number;
  tlsCaDuration: number;
  caBundleWebhook?: string[];
  caConfigmap?: string;
  notifyConfig?: string;
}

/** Adds the serve command's flags; each defaults to its BELAY_* variable, then to DEFAULTS. */
export function addServeFlags(command: Command): Command {
  const env = process.env;
  const d = DEFAULTS;
  command
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
    .addOption(new Option('--decision-log-max-files <n>', 'rotated decision logs kept').argParser(nonNegativeInt('--decision-log-max-files')).default(5));
  addShippingFlags(command);
  command
    .option(
      '--tls-dir <dir>',
      `directory holding tls.crt, tls.key and ca.crt, reloaded when they change; outside a pod a development CA is made there when absent (default: $BELAY_TLS_DIR, else ${d.tlsDir})`,
    )
    .option(
      '--kubeconfig <file>',
      "kubeconfig of the cluster to watch namespaces and store approvals in (default in a pod: the pod's service account)",
      env.BELAY_KUBECONFIG,
    )
    .option('--local', 'run without a cluster: approvals in --state-dir, static tokens (the only way into local mode)')
    .option(
      '--webhook-client-ca <file>',
      "only the API server may call the admission, approvals and authorization webhooks: the CA (PEM) that signs its client certificate (its admission configuration's and authorization webhook's kubeconfig carry it)",
      env.BELAY_WEBHOOK_CLIENT_CA,
    )
    .option(
      '--webhook-client-name <name...>',
      "with --webhook-client-ca: the common or DNS names the API server's client certificate may carry (default: any certificate from that CA)",
      env.BELAY_WEBHOOK_CLIENT_NAMES?.split(','),
    )
    .option('--inventory <path>', "local mode: YAML objects (file or folder) that make up Gatekeeper's data.inventory", env.BELAY_INVENTORY)
    .addOption(
      new Option('--inventory-max-bytes <bytes>', "bound on Gatekeeper's data.inventory; objects past it are left out (logged)")
        .argParser(positiveInt('--inventory-max-bytes'))
        .default(d.inventory.maxBytes),
    )
    .option(
      '--agents-file <file>',
      "who is an agent until a policy bundle is active (YAML like data.belay.config.agents: serviceAccountNamespaces, serviceAccounts, groups, usernames); agents are refused then and everyone else passes (default: the default bundle's, service accounts in namespace agents and group belay:agents)",
      env.BELAY_AGENTS_FILE,
    )
    .addOption(new Option('--body-limit <bytes>', 'largest request body accepted').argParser(positiveInt('--body-limit')).default(d.bodyLimit))
    .addOption(
      new Option('--body-max-depth <n>', 'deepest nesting of objects and arrays a JSON body may have')
        .argParser(positiveInt('--body-max-depth'))
        .default(d.bodyShape.maxDepth),
    )
    .addOption(
      new Option('--body-max-containers <n>', 'objects and arrays a JSON body may hold in all')
        .argParser(positiveInt('--body-max-containers'))
        .default(d.bodyShape.maxContainers),
    )
    .addOption(
      new Option('--body-max-members <n>', 'object keys and array elements a JSON body may hold in all')
        .argParser(positiveInt('--body-max-members'))
        .default(d.bodyShape.maxMembers),
    )
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
    .option('--state-dir <dir>', 'local approval store (--local)', env.BELAY_STATE_DIR ?? d.approvals.stateDir)
    .option(
      '--gateway-user <name>',
      "the gateway's username to the API server, allowed to mark approvals Consumed or Expired (default: asked of the API server)",
      env.BELAY_GATEWAY_USER,
    )
    .option(
      '--approvals-namespace <ns>',
      `namespace for approvals of cluster-scoped requests and the expiry Lease (default: $BELAY_APPROVALS_NAMESPACE, in a pod its namespace, else ${d.approvals.namespace})`,
      env.BELAY_APPROVALS_NAMESPACE,
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
    .addOption(
      new Option('--max-open-approvals-per-target <n>', 'approval requests (of different content) that may wait for a human at once for one target')
        .argParser(positiveInt('--max-open-approvals-per-target'))
        .default(d.approvals.maxOpenPerTarget),
    )
    .addOption(
      new Option('--max-open-approvals-per-requester <n>', 'approval requests one agent may have waiting for a human at once')
        .argParser(positiveInt('--max-open-approvals-per-requester'))
        .default(d.approvals.maxOpenPerRequester),
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
    .addOption(
      new Option(
        '--image-registries <list>',
        'registries belay may read image facts from (comma-separated host[:port], "*." for one DNS label; "*" any, "none" no lookups)',
      )
        .argParser(registryList('--image-registries'))
        .default(registryList('BELAY_IMAGE_REGISTRIES')(env.BELAY_IMAGE_REGISTRIES ?? d.images.registries?.join(',') ?? '*'), 'the public registries'),
    )
    .addOption(
      new Option('--insecure-registries <list>', 'registries (comma-separated host[:port]) read over plain HTTP; loopback ones always are')
        .argParser(parseHostList)
        .default(parseHostList(env.BELAY_INSECURE_REGISTRIES ?? '')),
    )
    .option('--docker-config <file>', 'a docker config.json whose auths belay uses to read images (credential helpers are not run)', env.BELAY_DOCKER_CONFIG)
    .option('--no-image-pull-secrets', "with --kubeconfig: do not read the pod's and its service account's pull secrets")
    .option('--image-platform <os/arch>', 'platform read from multi-platform images', env.BELAY_IMAGE_PLATFORM ?? d.images.platform)
    .addOption(
      new Option('--image-timeout <duration>', "budget of one request's image lookups (past it the images are unknown)")
        .argParser(durationMs)
        .default(durationMs(env.BELAY_IMAGE_TIMEOUT ?? `${d.images.timeoutMs}ms`), '2s'),
    )
    .option('--no-console', 'do not serve the approvals console (/console/)')
    .option(
      '--notify-config <file>',
      'notification channels (Slack, Teams, webhook/CloudEvents, email) and delivery settings, YAML; which requests go where is policy data (data.belay.config.notifications)',
      env.BELAY_NOTIFY_CONFIG,
    )
    .addOption(
      new Option(
        '--shutdown-delay <duration>',
        'on SIGTERM: how long to keep serving while /readyz says not ready, so load balancers stop sending first (0 without one)',
      )
        .argParser(durationOrZero)
        .default(env.BELAY_SHUTDOWN_DELAY ? durationOrZero(env.BELAY_SHUTDOWN_DELAY) : d.shutdown.delayMs, '2s'),
    )
    .addOption(
      new Option('--shutdown-grace <duration>', 'on SIGTERM, after the delay: how long requests in flight may take before their connections are cut')
        .argParser(durationMs)
        .default(env.BELAY_SHUTDOWN_GRACE ? durationMs(env.BELAY_SHUTDOWN_GRACE) : d.shutdown.graceMs, '15s'),
    );
  return addInstallFlags(command);
}

/** Shipping decisions to an HTTP service in OPA's decision-log format, through a durable spool. */
function addShippingFlags(command: Command): Command {
  const env = process.env;
  const d = DEFAULT_SHIPPING;
  return command
    .option(
      '--decision-log-service <url>',
      "also ship every decision (redacted, as the decision log writes it) to this HTTP service in OPA's decision-log format (gzip JSON batches POSTed to --decision-log-resource)",
      env.BELAY_DECISION_LOG_SERVICE,
    )
    .option('--decision-log-resource <path>', "the service's decision-log path", env.BELAY_DECISION_LOG_RESOURCE ?? d.resource)
    .option('--decision-log-service-ca <file>', 'CA certificate (PEM) of an https --decision-log-service', env.BELAY_DECISION_LOG_SERVICE_CA)
    .option(
      '--decision-log-service-token-file <file>',
      'bearer token for --decision-log-service, re-read for every upload',
      env.BELAY_DECISION_LOG_SERVICE_TOKEN_FILE,
    )
    .option(
      '--decision-log-spool <dir>',
      'where decisions wait for --decision-log-service (survives a restart of the process; a volume that outlives the pod keeps them across pods)',
      env.BELAY_DECISION_LOG_SPOOL ?? d.spoolDir,
    )
    .addOption(
      new Option(
        '--decision-log-spool-max-bytes <bytes>',
        'bound on the spool on disk; past it new decisions are dropped and counted (belay_decision_log_dropped_total)',
      )
        .argParser(positiveInt('--decision-log-spool-max-bytes'))
        .default(d.spoolMaxBytes),
    )
    .addOption(
      new Option(
        '--decision-log-fsync <policy>',
        'when spooled decisions are forced to disk: always (each batch; survives a machine crash), interval (every --decision-log-fsync-interval), never (the kernel decides); a process kill loses nothing spooled under any',
      )
        .choices(['always', 'interval', 'never'])
        .default(env.BELAY_DECISION_LOG_FSYNC ?? d.fsync),
    )
    .addOption(
      new Option('--decision-log-fsync-interval <duration>', 'with --decision-log-fsync interval: the longest a spooled decision waits for its fsync')
        .argParser(durationMs)
        .default(d.fsyncIntervalMs, '1s'),
    )
    .option('--decision-log-label <key=value...>', 'a label every shipped event carries (beside id, app and version); repeat for several')
    .addOption(
      new Option('--decision-log-backoff-max <duration>', 'longest wait between retries while the service fails')
        .argParser(durationMs)
        .default(d.backoffMaxMs, '10s'),
    );
}

/** --decision-log-label key=value pairs. */
function labelsFromFlags(values: readonly string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values ?? []) {
    const m = /^([A-Za-z0-9_.-]+)=(.*)$/.exec(v);
    if (!m) throw new InvalidArgumentError(`--decision-log-label must be key=value, got ${JSON.stringify(v)}`);
    labels[m[1]!] = m[2]!;
  }
  return labels;
}

/** The shipping flags as a config, or null without --decision-log-service. */
function shippingFromFlags(flags: ServeFlags): DecisionShippingConfig | null {
  if (!flags.decisionLogService) return null;
  let url: URL;
  try {
    url = new URL(flags.decisionLogService);
  } catch {
    throw new InvalidArgumentError(`--decision-log-service must be an http or https URL, got ${JSON.stringify(flags.decisionLogService)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`--decision-log-service must be an http or https URL, got ${JSON.stringify(flags.decisionLogService)}`);
  return {
    url: url.href,
    resource: flags.decisionLogResource,
    caFile: flags.decisionLogServiceCa,
    tokenFile: flags.decisionLogServiceTokenFile,
    spoolDir: flags.decisionLogSpool,
    spoolMaxBytes: flags.decisionLogSpoolMaxBytes,
    fsync: flags.decisionLogFsync,
    fsyncIntervalMs: flags.decisionLogFsyncInterval,
    labels: labelsFromFlags(flags.decisionLogLabel),
    backoffMaxMs: flags.decisionLogBackoffMax,
  };
}

/** The flags an installation (the Helm chart) passes: the configuration overlay, and TLS mode self. */
function addInstallFlags(command: Command): Command {
  const env = process.env;
  return command
    .option(
      '--config-overlay <file>',
      'JSON laid over data.belay.config of every bundle (objects merged key by key, lists and scalars replaced), re-read when it changes',
      env.BELAY_CONFIG_OVERLAY,
    )
    .option(
      '--tls-secret <name>',
      "TLS mode self: keep a CA and a serving certificate in this Secret of the gateway's namespace, rotated before expiry by one replica at a time; every replica serves from it",
      env.BELAY_TLS_SECRET,
    )
    .option('--tls-san <name...>', 'a DNS name or IP address of the serving certificate (--tls-secret); repeat for several')
    .addOption(
      new Option('--tls-cert-duration <duration>', 'lifetime of the serving certificate (--tls-secret), renewed with a third left')
        .argParser(durationMs)
        .default(durationMs(DEFAULT_TLS_CERT_DURATION), DEFAULT_TLS_CERT_DURATION),
    )
    .addOption(
      new Option('--tls-ca-duration <duration>', 'lifetime of the CA (--tls-secret), renewed with a third left, overlapping the old one')
        .argParser(durationMs)
        .default(durationMs(DEFAULT_TLS_CA_DURATION), DEFAULT_TLS_CA_DURATION),
    )
    .option(
      '--ca-bundle-webhook <kind/name...>',
      'write the CA into every webhook of this configuration (mutating/NAME or validating/NAME); repeat for several',
    )
    .option('--ca-configmap <name>', "keep ca.crt of this ConfigMap (gateway's namespace) equal to the CA (the authorization webhook's kubeconfig CA)");
}

/**
 * The flags as a GatewayConfig. Throws for contradictions; `devTokens` makes
 * (once) the files --dev-tokens names, and is only called in local mode.
 * `pod` is what the environment says about a pod (tests give their own).
 */
export function configFromFlags(
  flags: ServeFlags,
  devTokens?: () => { agents: string; approvers: string },
  pod: PodEnvironment = podEnvironment(),
): GatewayConfig {
  const cluster = chooseClusterAccess({ local: flags.local === true, kubeconfig: flags.kubeconfig }, pod);
  if (flags.devTokens && cluster.kind !== 'local') {
    throw new InvalidArgumentError('--dev-tokens is for local mode (--local); in a cluster, agents and approvers use their Kubernetes tokens');
  }
  const dev = flags.devTokens ? devTokens?.() : undefined;
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
    tlsDir: flags.tlsDir ?? process.env.BELAY_TLS_DIR ?? DEFAULTS.tlsDir,
    webhookClients: { caFile: flags.webhookClientCa, names: flags.webhookClientName ?? [] },
    tlsSecret: tlsSecretFromFlags(flags),
    cluster,
    configOverlay: flags.configOverlay ?? null,
    bundle,
    verification:
      keys.length > 0
        ? verificationConfig(keys, {
            ...(flags.verificationKeyId ? { keyId: flags.verificationKeyId } : {}),
            ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
            ...(flags.excludeFilesVerify ? { exclude: flags.excludeFilesVerify } : {}),
          })
        : null,
    ...(flags.agentsFile ? { agentsBeforeBundle: readAgentsFile(flags.agentsFile) } : {}),
    bodyLimit: flags.bodyLimit,
    bodyShape: { maxDepth: flags.bodyMaxDepth, maxContainers: flags.bodyMaxContainers, maxMembers: flags.bodyMaxMembers },
    evaluation: { mode: flags.evaluator, workers: flags.evalWorkers, timeoutMs: flags.evalTimeoutMs },
    approvals: {
      stateDir: flags.stateDir,
      namespace: flags.approvalsNamespace ?? (cluster.kind === 'in-cluster' ? ownNamespace(cluster, undefined) : undefined) ?? DEFAULTS.approvals.namespace,
      approverGroups: flags.approverGroup,
      gatewayUser: flags.gatewayUser,
      ttlMs: flags.approvalTtl,
      retentionMs: flags.approvalRetention,
      maxOpenPerTarget: flags.maxOpenApprovalsPerTarget,
      maxOpenPerRequester: flags.maxOpenApprovalsPerRequester,
    },
    agentApi: { tokenFile: flags.agentTokenFile ?? dev?.agents, audiences: flags.agentTokenAudience ?? [], scanTimeoutMs: flags.scanTimeout },
    console: { enabled: flags.console, approverTokenFile: flags.approverTokenFile ?? dev?.approvers },
    inventory: { files: flags.inventory, maxBytes: flags.inventoryMaxBytes },
    decisionLog: flags.decisionLog ? { destination: flags.decisionLog, maxBytes: flags.decisionLogMaxBytes, maxFiles: flags.decisionLogMaxFiles } : null,
    decisionShipping: shippingFromFlags(flags),
    shutdown: { delayMs: flags.shutdownDelay, graceMs: flags.shutdownGrace },
    images: imagesFromFlags(flags),
    notifications: { configFile: flags.notifyConfig },
  });
}

function imagesFromFlags(flags: ServeFlags): ImageLookupConfig {
  const images: ImageLookupConfig = {
    registries: registriesOf(flags.imageRegistries),
    insecureRegistries: flags.insecureRegistries,
    dockerConfig: flags.dockerConfig,
    pullSecrets: flags.imagePullSecrets,
    platform: flags.imagePlatform,
    timeoutMs: flags.imageTimeout,
  };
  asUsage('--image-platform/--image-timeout', () => checkImageLookupConfig(images));
  return images;
}

function registryList(flag: string): (value: string) => string[] {
  return (value) => asUsage(flag, () => parseRegistryFlag(value));
}

function asUsage<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
  }
}

/** An agents file: the `agents` block of policies/data.json as YAML or JSON (or that block under belay.config). */
function readAgentsFile(file: string): AgentSelector {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`--agents-file ${file}: ${asBelayError(err).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`--agents-file ${file} must hold a mapping`);
  const block = parsed as JsonObject;
  return agentSelectorFromData(block.belay ? block : { belay: { config: { agents: block } } });
}

/** TLS mode self from its flags, or null; its flags without --tls-secret, or with --tls-dir, are refused. */
function tlsSecretFromFlags(flags: ServeFlags): TlsSecretConfig | null {
  const selfOnly = [
    ['--tls-san', flags.tlsSan],
    ['--ca-bundle-webhook', flags.caBundleWebhook],
    ['--ca-configmap', flags.caConfigmap],
  ] as const;
  if (!flags.tlsSecret) {
    const stray = selfOnly.filter(([, v]) => v !== undefined).map(([f]) => f);
    if (stray.length) throw new InvalidArgumentError(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} for TLS mode self: add --tls-secret NAME`);
    return null;
  }
  if (flags.tlsDir !== undefined) {
    throw new InvalidArgumentError(
      '--tls-secret and --tls-dir contradict each other: belay keeps its own certificate in the Secret, or serves the files in the directory',
    );
  }
  const hosts = flags.tlsSan ?? [];
  if (hosts.length === 0)
    throw new InvalidArgumentError('--tls-secret needs the names the API server calls the gateway by: --tls-san NAME (repeat for several)');
  const min = 20_000;
  if (flags.tlsCertDuration < min || flags.tlsCaDuration < min)
    throw new InvalidArgumentError('--tls-cert-duration and --tls-ca-duration must be at least 20s');
  if (flags.tlsCaDuration < flags.tlsCertDuration) throw new InvalidArgumentError('--tls-ca-duration must be at least --tls-cert-duration');
  return {
    name: flags.tlsSecret,
    hosts,
    certValidityMs: flags.tlsCertDuration,
    caValidityMs: flags.tlsCaDuration,
    webhooks: (flags.caBundleWebhook ?? []).map(webhookRef),
    configMap: flags.caConfigmap,
  };
}

function webhookRef(value: string): WebhookRef {
  const m = /^(mutating|validating)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--ca-bundle-webhook must be mutating/NAME or validating/NAME, got ${JSON.stringify(value)}`);
  return { kind: m[1] as WebhookRef['kind'], name: m[2]! };
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

/** A duration, or zero ("0", "0s"). */
function durationOrZero(value: string): number {
  return /^0+(\.0*)?(ns|us|µs|ms|s|m|h)?$/.test(value.trim()) ? 0 : durationMs(value);
}

function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(asBelayError(err).message);
  }
}
