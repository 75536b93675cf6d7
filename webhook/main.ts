#!/usr/bin/env node
// The `belay` executable: the core's commands plus `serve`, the default, which
// runs the gateway (`node dist/webhook/main.js [--listen host:port] …`).

import { CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../src/approvals/duration.js';
import { describeDevTokens, ensureDevTokens } from '../src/auth/devtokens.js';
import { buildProgram } from '../src/cli/program.js';
import { asBelayError } from '../src/errors.js';
import { createLogger } from '../src/observe/log.js';
import { addBundleFlags, type BundleFlags, bundleGatewayOptions } from './bundle-flags.js';
import { startGateway } from './gateway.js';
import { addMcpCommand } from './mcp/command.js';

const program = buildProgram();
addMcpCommand(program);
const serveCommand = program
  .command('serve', { isDefault: true })
  .description("serve belay's admission webhook and gateway API over HTTPS")
  .option('--listen <host:port>', 'address to serve on', process.env.BELAY_LISTEN ?? '127.0.0.1:8443')
  .option('--bundle <file>', 'policy bundle (.tar.gz) to serve', process.env.BELAY_BUNDLE ?? '.build/bundle.tar.gz')
  .option(
    '--tls-dir <dir>',
    'directory holding ca.crt, tls.crt, tls.key (a development CA is made there when absent)',
    process.env.BELAY_TLS_DIR ?? '.belay/tls',
  )
  .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch namespaces and store approvals in (local mode without it)', process.env.BELAY_KUBECONFIG)
  .addOption(new Option('--body-limit <bytes>', 'largest request body accepted').argParser((v) => Number.parseInt(v, 10)).default(8 * 1024 * 1024))
  .option('--log-level <level>', 'log level', process.env.BELAY_LOG_LEVEL ?? 'info')
  .addOption(
    new Option('--evaluator <mode>', 'where policy runs: a pool of worker threads, or in-process on the event loop (debugging; no time budget)')
      .choices(['pool', 'in-process'])
      .default(process.env.BELAY_EVALUATOR ?? 'pool'),
  )
  .addOption(new Option('--eval-workers <n>', 'policy worker threads per bundle (default: the cores)').argParser(positiveInt('--eval-workers')))
  .option('--state-dir <dir>', 'local approval store, used without --kubeconfig', process.env.BELAY_STATE_DIR ?? '.belay/state')
  .option(
    '--gateway-user <name>',
    "the gateway's username to the API server, allowed to mark approvals Consumed or Expired (default: asked of the API server)",
    process.env.BELAY_GATEWAY_USER,
  )
  .option(
    '--approvals-namespace <ns>',
    'namespace for approvals of cluster-scoped requests and the expiry Lease',
    process.env.BELAY_APPROVALS_NAMESPACE ?? 'belay',
  )
  .option(
    '--approver-group <group...>',
    'who may decide when policy names no approver groups',
    (process.env.BELAY_APPROVER_GROUPS ?? 'belay:approvers').split(','),
  )
  .addOption(
    new Option('--approval-ttl <duration>', "time to live of new approval requests, overriding the policy's approval.ttl (e.g. 30s for drills)")
      .argParser(durationMs)
      .default(process.env.BELAY_APPROVAL_TTL ? durationMs(process.env.BELAY_APPROVAL_TTL) : undefined),
  )
  .addOption(
    new Option('--approval-retention <duration>', 'how long finished approval requests (consumed, rejected, expired) are kept before they are deleted')
      .argParser(durationMs)
      .default(process.env.BELAY_APPROVAL_RETENTION ? durationMs(process.env.BELAY_APPROVAL_RETENTION) : undefined, '24h'),
  )
  .addOption(
    new Option('--eval-timeout-ms <ms>', 'budget of one policy evaluation; past it the worker is replaced and the agent request refused')
      .argParser(positiveInt('--eval-timeout-ms'))
      .default(1000),
  )
  .option(
    '--agent-token-file <file>',
    'agent gate API bearer tokens (YAML list of {token, username, groups}); without it, tokens are checked with a TokenReview against --kubeconfig',
    process.env.BELAY_AGENT_TOKEN_FILE,
  )
  .option(
    '--agent-token-audience <aud...>',
    'audiences a TokenReview of an agent API token must be valid for',
    process.env.BELAY_AGENT_TOKEN_AUDIENCE?.split(','),
  )
  .option(
    '--dev-tokens <dir>',
    'local mode: make (once) and use an approver and an agent token in this directory, for the console and the agent API (make run uses .belay/tokens)',
  )
  .option(
    '--approver-token-file <file>',
    "approvals console (/console/) in local mode: approvers' bearer tokens (YAML list of {token, username, groups}); with --kubeconfig approvers use their own Kubernetes tokens instead",
    process.env.BELAY_APPROVER_TOKEN_FILE,
  )
  .action(serveAction);
addBundleFlags(serveCommand);

function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(asBelayError(err).message);
  }
}

function positiveInt(flag: string): (value: string) => number {
  return function parse(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

async function serveAction(): Promise<void> {
  const opts = serveCommand.opts<{
    listen: string;
    bundle: string;
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
    agentTokenFile?: string;
    agentTokenAudience?: string[];
    approverTokenFile?: string;
    devTokens?: string;
  }>();
  const log = createLogger({ level: opts.logLevel });
  const match = /^(.*):(\d+)$/.exec(opts.listen);
  if (!match) throw new Error(`--listen must be host:port, got ${opts.listen}`);
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const retentionMs = serveCommand.opts<{ approvalRetention?: number }>().approvalRetention;
  if (opts.devTokens && opts.kubeconfig) throw new Error('--dev-tokens is for local mode; with --kubeconfig, agents and approvers use their Kubernetes tokens');
  const dev = opts.devTokens ? ensureDevTokens(opts.devTokens).files : undefined;
  const agentTokenFile = opts.agentTokenFile ?? dev?.agents;
  const approverTokenFile = opts.approverTokenFile ?? dev?.approvers;
  const gateway = await startGateway({
    host,
    port: Number(match[2]),
    bundlePath: opts.bundle,
    ...bundleGatewayOptions(serveCommand.opts<BundleFlags>()),
    tlsDir: opts.tlsDir,
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    bodyLimit: opts.bodyLimit,
    log,
    approvalOptions: {
      stateDir: opts.stateDir,
      namespace: opts.approvalsNamespace,
      approverGroups: opts.approverGroup,
      ...(opts.gatewayUser ? { gatewayUser: opts.gatewayUser } : {}),
      ...(opts.approvalTtl ? { ttlMs: opts.approvalTtl } : {}),
      ...(retentionMs ? { retentionMs } : {}),
    },
    evaluation: { mode: opts.evaluator, timeoutMs: opts.evalTimeoutMs, ...(opts.evalWorkers ? { workers: opts.evalWorkers } : {}) },
    ...(agentTokenFile ? { agentTokenFile } : {}),
    ...(opts.agentTokenAudience?.length ? { agentTokenAudiences: opts.agentTokenAudience } : {}),
    ...(approverTokenFile ? { approverTokenFile } : {}),
  });
  const active = gateway.store.current();
  log.info({ url: gateway.url, revision: active?.revision }, 'belay is serving');
  process.stderr.write(
    `\nbelay is serving ${gateway.url} (bundle revision ${active?.revision || 'unversioned'})\n` +
      `  try: curl --cacert ${gateway.caFile} ${gateway.url}/readyz\n` +
      `       curl --cacert ${gateway.caFile} -H 'Content-Type: application/json' ${gateway.url}/validate -d @policy-tests/reviews/deny-privileged-pod.json\n` +
      `  approvals console: ${gateway.url}/console/\n` +
      (dev
        ? `  development tokens (${opts.devTokens}):\n${describeDevTokens(dev)
            .map((l) => `    ${l}\n`)
            .join('')}`
        : '') +
      '\n',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

program.parseAsync().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = asBelayError(err);
  process.stderr.write(`belay: ${e.message}\n`);
  process.exit(e.exitStatus);
});
