// `belay mcp`: the MCP enforcement proxy's command line. On stdio (what MCP
// hosts launch):
//   belay mcp [--gateway URL] [--ca FILE] [--token-file FILE] [--wait 30s] -- UPSTREAM_COMMAND [ARGS...]
// beside a shared server, over streamable HTTP:
//   belay mcp --listen 0.0.0.0:9090 --upstream-url http://mcp.example:8080/mcp
// Registered on the program by webhook/main.ts.

import { type Command, InvalidArgumentError, Option } from 'commander';
import type { JsonObject } from '../../src/contract/index.js';
import { asBelayError, BelayError } from '../../src/errors.js';
import { gatewayCa, tokenSource } from '../../src/mcp/credentials.js';
import { LineTransport } from '../../src/mcp/framing.js';
import { GatewayClient } from '../../src/mcp/gateway.js';
import { openSession, type SessionOptions, type UpstreamSpec } from '../../src/mcp/session.js';
import { fixedDefaults, KNOWN_SERVERS, kubeconfigDefaults, kubeconfigFiles } from '../../src/mcp/tools/index.js';
import { createLogger, type Logger } from '../../src/observe/log.js';
import { parseDuration } from '../../src/util/duration.js';
import { startHttpProxy } from './http.js';

interface McpFlags {
  gateway: string;
  ca?: string;
  tokenFile?: string;
  wait?: number;
  workflow?: string;
  onBehalfOf?: string;
  toolMap?: string;
  kubeconfig?: string;
  namespace?: string;
  callTimeout: number;
  maxResultBytes?: number;
  logLevel: string;
  listen?: string;
  upstreamUrl?: string;
  upstreamTokenFile?: string;
  tlsDir: string;
  allowedHost?: string[];
  maxSessions: number;
}

export function addMcpCommand(program: Command): Command {
  return program
    .command('mcp')
    .description(
      'run an MCP server command behind belay: every tool call is asked of the gateway first, results are redacted, deferred calls name their approval',
    )
    .argument('[upstream...]', 'the upstream MCP server command and its arguments, after --')
    .option('--gateway <url>', "belay's gateway", process.env.BELAY_GATEWAY ?? 'https://127.0.0.1:8443')
    .option('--ca <file>', "CA of the gateway's certificate (default: .belay/tls/ca.crt when present, else the system's)", process.env.BELAY_CA)
    .option(
      '--token-file <file>',
      "the agent's bearer token for the gateway (default: BELAY_TOKEN, else .belay/tokens/agents.yaml)",
      process.env.BELAY_TOKEN_FILE,
    )
    .addOption(new Option('--wait <duration>', 'how long a deferred call waits for an approver before answering (e.g. 30s)').argParser(duration('--wait')))
    .option('--workflow <name>', 'agent context: the workflow every call belongs to (trust ladder)')
    .option('--on-behalf-of <user>', 'the human the agent acts for (may not approve its calls)')
    .addOption(new Option('--tool-map <server>', "which server's tool mapping to use, whatever the server calls itself").choices([...KNOWN_SERVERS]))
    .option('--kubeconfig <file>', 'the kubeconfig the upstream uses (default: its --kubeconfig argument, KUBECONFIG, ~/.kube/config)')
    .option('--namespace <ns>', 'the namespace the upstream acts in when a call names none (default: from that kubeconfig)')
    .addOption(
      new Option('--call-timeout <duration>', 'how long a sent tool call may go without an answer or progress before belay cancels it')
        .argParser(duration('--call-timeout'))
        .default(300_000, '5m'),
    )
    .addOption(new Option('--max-result-bytes <n>', 'largest tool result passed on (default 4 MiB)').argParser(positiveInt('--max-result-bytes')))
    .option('--log-level <level>', 'log level (JSON lines on stderr)', process.env.BELAY_LOG_LEVEL ?? 'info')
    .option('--listen <host:port>', 'serve streamable HTTP over TLS instead of stdio')
    .option('--upstream-url <url>', 'a streamable HTTP MCP server to proxy instead of a command')
    .option('--upstream-token-file <file>', "a bearer token belay sends to --upstream-url (its own, not the agent's)")
    .option('--tls-dir <dir>', '--listen: directory with tls.crt and tls.key (a development CA is made when absent)', process.env.BELAY_TLS_DIR ?? '.belay/tls')
    .option('--allowed-host <host...>', '--listen: Host header names accepted (default on loopback: localhost, 127.0.0.1, [::1])')
    .addOption(new Option('--max-sessions <n>', '--listen: concurrent MCP sessions').argParser(positiveInt('--max-sessions')).default(64))
    .action(async function mcpAction(this: Command, upstream: string[]) {
      const flags = this.opts<McpFlags>();
      const log = createLogger({ level: flags.logLevel, destination: process.stderr });
      try {
        await (flags.listen ? runHttp(flags, upstream, log) : runStdio(flags, upstream, log));
      } catch (err) {
        process.stderr.write(`belay mcp: ${asBelayError(err).message}\n`);
        process.exitCode = asBelayError(err).exitStatus;
      }
    });
}

function upstreamOf(flags: McpFlags, command: string[]): UpstreamSpec {
  if (flags.upstreamUrl && command.length > 0) throw new BelayError('bad_request', 'give either --upstream-url or an upstream command after --, not both');
  if (flags.upstreamUrl) {
    let url: URL;
    try {
      url = new URL(flags.upstreamUrl);
    } catch {
      throw new BelayError('bad_request', `--upstream-url ${flags.upstreamUrl} is not a URL`);
    }
    const headers = flags.upstreamTokenFile ? { authorization: `Bearer ${tokenSource({ tokenFile: flags.upstreamTokenFile }).read()}` } : undefined;
    return { kind: 'url', url: url.toString(), ...(headers ? { headers } : {}) };
  }
  const [cmd, ...args] = command;
  if (!cmd) throw new BelayError('bad_request', 'no upstream MCP server: give its command after -- (belay mcp -- kubernetes-mcp-server …), or --upstream-url');
  return { kind: 'command', command: cmd, args };
}

function sessionOptions(flags: McpFlags, upstream: UpstreamSpec, log: Logger): Omit<SessionOptions, 'client' | 'gate'> {
  const files = flags.kubeconfig ? [flags.kubeconfig] : kubeconfigFiles(upstream.kind === 'command' ? upstream.args : []);
  const fromKubeconfig = kubeconfigDefaults(files);
  const kube = flags.namespace ? fixedDefaults(flags.namespace, fromKubeconfig.cluster()) : fromKubeconfig;
  const context: JsonObject | undefined = flags.workflow ? { workflow: flags.workflow } : undefined;
  return {
    upstream,
    kube,
    log,
    callTimeoutMs: flags.callTimeout,
    ...(flags.wait ? { waitMs: flags.wait } : {}),
    ...(flags.toolMap ? { toolMap: flags.toolMap } : {}),
    ...(context ? { context } : {}),
    ...(flags.onBehalfOf ? { onBehalfOf: flags.onBehalfOf } : {}),
    ...(flags.maxResultBytes ? { maxResultBytes: flags.maxResultBytes } : {}),
  };
}

async function runStdio(flags: McpFlags, command: string[], log: Logger): Promise<void> {
  const upstream = upstreamOf(flags, command);
  const token = tokenSource({ tokenFile: flags.tokenFile });
  const ca = gatewayCa({ ca: flags.ca });
  const gate = new GatewayClient({ url: flags.gateway, token: () => token.read(), ...(ca.pem ? { ca: ca.pem } : {}) });
  log.info(
    { gateway: gate.url, ca: ca.from, token: token.from, upstream: upstream.kind === 'command' ? upstream.command : upstream.url },
    'belay mcp starting',
  );
  // Not needed to start (every call is checked), but worth saying at once when it will fail.
  void gate.checkToken(token.read()).catch((err) => {
    process.stderr.write(`belay mcp: warning: ${(err as Error).message}; every tool call is refused until the gateway accepts the agent token\n`);
  });
  const client = new LineTransport({ input: process.stdin, output: process.stdout });
  const session = await openSession({ ...sessionOptions(flags, upstream, log), client, gate });
  const stop = (signal: string) => void session.close(`stopped by ${signal}`);
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const reason = await session.closed;
  gate.close();
  if (session.exitCode() !== 0) process.stderr.write(`belay mcp: ${reason}; stopping\n`);
  // stdout to a pipe is written asynchronously: the last answers go out before the process ends.
  process.stdout.write('', () => process.exit(session.exitCode()));
}

async function runHttp(flags: McpFlags, command: string[], log: Logger): Promise<void> {
  const upstream = upstreamOf(flags, command);
  const m = /^(.*):(\d+)$/.exec(flags.listen ?? '');
  if (!m) throw new BelayError('bad_request', `--listen must be host:port, got ${flags.listen}`);
  const ca = gatewayCa({ ca: flags.ca });
  const fallback = flags.tokenFile || process.env.BELAY_TOKEN ? tokenSource({ tokenFile: flags.tokenFile }) : undefined;
  const gateway = new GatewayClient({
    url: flags.gateway,
    token: () => {
      throw new BelayError('unauthorized', 'no token for this session');
    },
    ...(ca.pem ? { ca: ca.pem } : {}),
  });
  const proxy = await startHttpProxy({
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: Number(m[2]),
    tlsDir: flags.tlsDir,
    session: sessionOptions(flags, { ...upstream, ...(upstream.kind === 'command' ? { stderr: process.stderr } : {}) }, log),
    gateFor: (token) => gateway.as(token),
    ...(fallback ? { fallbackToken: () => fallback.read() } : {}),
    ...(flags.allowedHost ? { allowedHosts: flags.allowedHost } : {}),
    maxSessions: flags.maxSessions,
    log,
  });
  process.stderr.write(`belay mcp is serving ${proxy.url} (gateway ${flags.gateway}; upstream ${upstream.kind === 'url' ? upstream.url : upstream.command})\n`);
  const stop = () =>
    void proxy.close().then(() => {
      gateway.close();
      process.exit(0);
    });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function duration(flag: string): (value: string) => number {
  return function parse(value) {
    try {
      return parseDuration(value);
    } catch (err) {
      throw new InvalidArgumentError(`${flag}: ${asBelayError(err).message}`);
    }
  };
}

function positiveInt(flag: string): (value: string) => number {
  return function parse(value) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}
