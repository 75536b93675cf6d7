// The serve command's flags for bundle sources, signature verification and
// the decision log, turned into gateway options. Kept apart from main.ts so
// that file stays a list of commands.

import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BundleSourceSpec } from '../src/bundle/select.js';
import { readVerificationKey, type VerificationConfig, verificationConfig } from '../src/bundle/verify.js';
import type { DecisionLogOptions } from '../src/observe/decision-log.js';

export interface BundleFlags {
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
  decisionLogMaxBytes: number;
  decisionLogMaxFiles: number;
}

function pollRange(value: string): [number, number] {
  const m = /^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--bundle-poll must be seconds or min:max seconds, got ${JSON.stringify(value)}`);
  const min = Number(m[1]) * 1000;
  const max = m[2] ? Number(m[2]) * 1000 : min;
  if (min <= 0 || max < min) throw new InvalidArgumentError('--bundle-poll needs 0 < min <= max');
  return [min, max];
}

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function addBundleFlags(command: Command): Command {
  const env = process.env;
  return command
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
}

export interface BundleGatewayOptions {
  bundleSource: BundleSourceSpec;
  verification: VerificationConfig | null;
  decisionLog?: Omit<DecisionLogOptions, 'onError'>;
}

export function bundleGatewayOptions(flags: BundleFlags): BundleGatewayOptions {
  const keys = (flags.verificationKey ?? []).map((k) =>
    readVerificationKey(k, { algorithm: flags.signingAlg, ...(flags.scope !== undefined ? { scope: flags.scope } : {}) }),
  );
  const bundleSource: BundleSourceSpec = flags.bundleUrl
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
  return {
    bundleSource,
    verification:
      keys.length > 0
        ? verificationConfig(keys, {
            ...(flags.verificationKeyId ? { keyId: flags.verificationKeyId } : {}),
            ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
            ...(flags.excludeFilesVerify ? { exclude: flags.excludeFilesVerify } : {}),
          })
        : null,
    ...(flags.decisionLog ? { decisionLog: { destination: flags.decisionLog, maxBytes: flags.decisionLogMaxBytes, maxFiles: flags.decisionLogMaxFiles } } : {}),
  };
}
