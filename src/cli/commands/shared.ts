// What belay's CI-facing commands (test, check, replay, bundle) share: exit
// statuses like conftest's (0 clean, 1 a failure, 2 usage or load error), and
// one way to report an error.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The directory of the installed belay package (the one holding its package.json), found from this file. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'belay') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * The bundle a command uses without --bundle: $BELAY_BUNDLE, else the one
 * `make bundle` builds beside the installed belay — not one relative to the
 * current directory, so `belay check` works from anywhere.
 */
export function defaultBundle(): string {
  return process.env.BELAY_BUNDLE || path.join(packageRoot(), '.build', 'bundle.tar.gz');
}
