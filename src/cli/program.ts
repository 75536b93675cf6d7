// The `belay` command line. Each subcommand lives in its own file under
// commands/ and registers itself here; `serve` is added by webhook/main.ts,
// since the core does not depend on the HTTP faces.

import { Command } from 'commander';

export function buildProgram(): Command {
  const program = new Command('belay')
    .description('Policy gateway that keeps AI agents on a rope in Kubernetes')
    .showHelpAfterError()
    .exitOverride();
  return program;
}
