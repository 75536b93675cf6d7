// What belay's CI-facing commands (test, check, replay, bundle) share: exit
// statuses like conftest's (0 clean, 1 a failure, 2 usage or load error), one
// way to report an error, and the image lookup flags of check and test.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { asBelayError } from '../../errors.js';
import { checkImageLookupConfig, defaultDockerConfig, type ImageLookupConfig, parseHostList, parseRegistryFlag, registriesOf } from '../../images/config.js';
import { parseDuration } from '../../util/duration.js';

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

/** The image lookup flags, as commander parses them. */
export interface ImageFlags {
  /** The registries flag: host patterns, ["*"] for any (commander turns a parsed null into ""). */
  imageRegistries: string[];
  insecureRegistries: string[];
  dockerConfig?: string;
  imagePlatform: string;
  imageTimeout: number;
}

/**
 * Adds the flags that say how image facts are read (the gateway's flags of
 * the same names, webhook/config.ts). `registries` is the default: check
 * contacts any registry, test none (cases state their facts).
 */
export function addImageOptions(command: Command, defaults: { registries: string; timeout: string }): Command {
  return command
    .addOption(
      new Option(
        '--image-registries <list>',
        'registries belay may read image facts from (comma-separated host[:port], "*." for one DNS label; "*" any, "none" no lookups)',
      )
        .argParser(registryList)
        .default(registryList(defaults.registries), defaults.registries),
    )
    .addOption(
      new Option('--insecure-registries <list>', 'registries (comma-separated host[:port]) read over plain HTTP; loopback ones always are')
        .argParser(parseHostList)
        .default([]),
    )
    .option(
      '--docker-config <file>',
      'docker config.json whose auths are used to read images (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json, when it exists)',
    )
    .option('--image-platform <os/arch>', 'platform read from multi-platform images', 'linux/amd64')
    .addOption(
      new Option('--image-timeout <duration>', "budget of one object's image lookups (past it the images are unknown)")
        .argParser(durationFlag)
        .default(durationFlag(defaults.timeout), defaults.timeout),
    );
}

/** The flags as an ImageLookupConfig (no pull secrets: the CLI reads no cluster). */
export function imageLookupFromFlags(flags: ImageFlags): ImageLookupConfig {
  const config: ImageLookupConfig = {
    registries: registriesOf(flags.imageRegistries),
    insecureRegistries: flags.insecureRegistries,
    dockerConfig: flags.dockerConfig ?? defaultDockerConfig(),
    pullSecrets: false,
    platform: flags.imagePlatform,
    timeoutMs: flags.imageTimeout,
  };
  try {
    checkImageLookupConfig(config);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return config;
}

function registryList(value: string): string[] {
  try {
    return parseRegistryFlag(value);
  } catch (err) {
    throw new InvalidArgumentError(`--image-registries: ${(err as Error).message}`);
  }
}

function durationFlag(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(asBelayError(err).message);
  }
}
