#!/usr/bin/env node
// The `belay` executable: the core's commands plus `serve`, the default, which
// runs the gateway (`node dist/webhook/main.js [--listen host:port] …`). Its
// flags and their defaults are webhook/config.ts.

import { CommanderError } from 'commander';
import { type DevTokenFiles, describeDevTokens, ensureDevTokens } from '../src/auth/devtokens.js';
import { buildProgram } from '../src/cli/program.js';
import { asBelayError } from '../src/errors.js';
import { createLogger } from '../src/observe/log.js';
import { addServeFlags, configFromFlags, type ServeFlags } from './config.js';
import { startGateway } from './gateway.js';
import { addMcpCommand } from './mcp/command.js';

const program = buildProgram();
addMcpCommand(program);
const serveCommand = addServeFlags(
  program.command('serve', { isDefault: true }).description("serve belay's admission webhook and gateway API over HTTPS").action(serveAction),
);

async function serveAction(): Promise<void> {
  const flags = serveCommand.opts<ServeFlags>();
  const log = createLogger({ level: flags.logLevel });
  let dev: DevTokenFiles | undefined;
  const config = configFromFlags(flags, () => {
    dev = ensureDevTokens(flags.devTokens as string).files;
    return dev;
  });
  const gateway = await startGateway({ ...config, log });
  const active = gateway.store.current();
  const facts = gateway.describe();
  // Which mode, which store, which identity: the first thing to look at when a cluster misbehaves.
  log.info({ url: gateway.url, revision: active?.revision, ...facts }, 'belay is serving');
  const ca = gateway.caFile ? `--cacert ${gateway.caFile}` : '-k';
  process.stderr.write(
    `\nbelay is serving ${gateway.url} (bundle revision ${active?.revision || (gateway.store.waiting ? 'waiting for the configuration overlay' : 'unversioned')})\n` +
      `  mode ${facts.mode}: ${facts.cluster}; approvals: ${facts.store}; identity: ${facts.identity}\n` +
      `  try: curl ${ca} ${gateway.url}/readyz\n` +
      (config.cluster.kind === 'local'
        ? `       curl ${ca} -H 'Content-Type: application/json' ${gateway.url}/validate -d @policy-tests/reviews/deny-privileged-pod.json\n`
        : '') +
      (config.console.enabled ? `  approvals console: ${gateway.url}/console/\n` : '') +
      (dev
        ? `  development tokens (${flags.devTokens}):\n${describeDevTokens(dev)
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
    gateway.shutdown(signal).then(
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
