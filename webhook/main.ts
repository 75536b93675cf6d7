#!/usr/bin/env node
// The `belay` executable: the core's commands plus `serve`, the default, which
// runs the gateway (`node dist/webhook/main.js [--listen host:port] …`).

import { CommanderError, Option } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { asBelayError } from '../src/errors.js';
import { createLogger } from '../src/observe/log.js';
import { startGateway } from './gateway.js';

const program = buildProgram();
const serveCommand = program
  .command('serve', { isDefault: true })
  .description('serve belay\'s admission webhook and gateway API over HTTPS')
  .option('--listen <host:port>', 'address to serve on', process.env.BELAY_LISTEN ?? '127.0.0.1:8443')
  .option('--bundle <file>', 'policy bundle (.tar.gz) to serve', process.env.BELAY_BUNDLE ?? '.build/bundle.tar.gz')
  .option('--tls-dir <dir>', 'directory holding ca.crt, tls.crt, tls.key (a development CA is made there when absent)', process.env.BELAY_TLS_DIR ?? '.belay/tls')
  .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch namespaces and store approvals in (local mode without it)', process.env.BELAY_KUBECONFIG)
  .addOption(new Option('--body-limit <bytes>', 'largest request body accepted').argParser((v) => Number.parseInt(v, 10)).default(8 * 1024 * 1024))
  .option('--log-level <level>', 'log level', process.env.BELAY_LOG_LEVEL ?? 'info')
  .action(serveAction);

async function serveAction(): Promise<void> {
  const opts = serveCommand.opts<{ listen: string; bundle: string; tlsDir: string; kubeconfig?: string; bodyLimit: number; logLevel: string }>();
  const log = createLogger({ level: opts.logLevel });
  const match = /^(.*):(\d+)$/.exec(opts.listen);
  if (!match) throw new Error(`--listen must be host:port, got ${opts.listen}`);
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const gateway = await startGateway({
    host,
    port: Number(match[2]),
    bundlePath: opts.bundle,
    tlsDir: opts.tlsDir,
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    bodyLimit: opts.bodyLimit,
    log,
  });
  const active = gateway.store.current();
  log.info({ url: gateway.url, revision: active?.revision }, 'belay is serving');
  process.stderr.write(
    `\nbelay is serving ${gateway.url} (bundle revision ${active?.revision || 'unversioned'})\n` +
      `  try: curl --cacert ${gateway.caFile} ${gateway.url}/readyz\n` +
      `       curl --cacert ${gateway.caFile} -H 'Content-Type: application/json' ${gateway.url}/validate -d @policy-tests/reviews/deny-privileged-pod.json\n\n`,
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
