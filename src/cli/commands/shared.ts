// What belay's CI-facing commands (test, check, replay, bundle) share: exit
// statuses like conftest's (0 clean, 1 a failure, 2 usage or load error), and
// one way to report an error.

import { type Command, CommanderError } from 'commander';
import { asBelayError } from '../../errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Usage errors (unknown option, missing argument) end with status 2, help with 0. */
export function usageExitsTwo(command: Command): Command {
  return command.exitOverride((err) => {
    if (err.exitCode === 0) throw err;
    throw new CommanderError(EXIT.usage, err.code, err.message);
  });
}

/** Prints `belay <command>: message` and sets the exit status; used for load and usage errors. */
export function fail(command: string, err: unknown, status: number = EXIT.usage): void {
  process.stderr.write(`belay ${command}: ${asBelayError(err).message}\n`);
  process.exitCode = status;
}
