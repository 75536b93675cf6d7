// The `belay` command line. Each subcommand lives in its own file under
// commands/ and registers itself here; `serve` is added by webhook/main.ts,
// since the core does not depend on the HTTP faces.

import { Command } from 'commander';
import { approvalsCommand } from './commands/approvals.js';
import { bundleCommand } from './commands/bundle.js';
import { checkCommand } from './commands/check.js';
import { replayCommand } from './commands/replay.js';
import { testCommand } from './commands/test.js';
import { trustCommand } from './commands/trust.js';

export function buildProgram(): Command {
  const program = new Command('belay').description('Policy gateway that keeps AI agents on a rope in Kubernetes').showHelpAfterError().exitOverride();
  program.addCommand(testCommand());
  program.addCommand(checkCommand());
  program.addCommand(replayCommand());
  program.addCommand(bundleCommand());
  program.addCommand(trustCommand());
  program.addCommand(approvalsCommand());
  return program;
}
