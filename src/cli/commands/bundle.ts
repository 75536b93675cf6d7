// `belay bundle inspect|sign|verify`: look into a bundle, sign it in OPA's
// format, and check a signature the way the gateway will before serving it.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { inspectBundle, renderInspection } from '../../bundle/inspect.js';
import { readSigningKey, signArchive } from '../../bundle/sign.js';
import { loadBundle } from '../../bundle/source.js';
import { readVerificationKey, SIGNING_ALGORITHMS, type VerificationConfig, verificationConfig } from '../../bundle/verify.js';
import { BelayError } from '../../errors.js';
import { EXIT, fail, usageExitsTwo } from './shared.js';

interface KeyFlags {
  verificationKey?: string[];
  verificationKeyId?: string;
  signingAlg: string;
  scope?: string;
  excludeFilesVerify?: string[];
}

function readBundleBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read bundle ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function keysFrom(flags: KeyFlags): VerificationConfig | null {
  const keys = (flags.verificationKey ?? []).map((k) =>
    readVerificationKey(k, { algorithm: flags.signingAlg, ...(flags.scope !== undefined ? { scope: flags.scope } : {}) }),
  );
  if (keys.length === 0) return null;
  return verificationConfig(keys, {
    ...(flags.verificationKeyId ? { keyId: flags.verificationKeyId } : {}),
    ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
    ...(flags.excludeFilesVerify ? { exclude: flags.excludeFilesVerify } : {}),
  });
}

function withKeyFlags(command: Command): Command {
  return command
    .option('--verification-key <file...>', 'public key (PEM) to verify with; id=file names it')
    .option('--verification-key-id <id>', 'key to verify with, whatever the signature names')
    .addOption(new Option('--signing-alg <alg>', 'algorithm of the key').choices(SIGNING_ALGORITHMS).default('RS256'))
    .option('--scope <scope>', 'scope the signature must state')
    .option('--exclude-files-verify <glob...>', 'files left out of verification');
}

export function bundleCommand(): Command {
  const bundle = usageExitsTwo(new Command('bundle').description('inspect, sign and verify policy bundles (OPA format)'));

  bundle.addCommand(
    usageExitsTwo(
      withKeyFlags(
        new Command('inspect')
          .description("show a bundle's revision, roots, entrypoints, data keys, built-ins, files and signature")
          .argument('<bundle>', 'bundle archive (.tar.gz)')
          .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')),
      ).action(async function inspectAction(this: Command, file: string) {
        const opts = this.opts<KeyFlags & { output: 'text' | 'json' }>();
        try {
          const result = await inspectBundle(readBundleBytes(file), keysFrom(opts));
          process.stdout.write(opts.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : renderInspection(result));
          const unusable = result.builtins.some((b) => b.provider === 'missing') || result.signature?.verified === false;
          process.exitCode = unusable ? EXIT.failed : EXIT.ok;
        } catch (err) {
          fail('bundle inspect', err);
        }
      }),
    ),
  );

  bundle.addCommand(
    usageExitsTwo(
      new Command('sign')
        .description("sign a bundle: write /.signatures.json (a JWT listing every file's SHA-256) into the archive")
        .argument('<bundle>', 'bundle archive (.tar.gz)')
        .requiredOption('--signing-key <file>', 'private key (PEM), or the shared secret for HS*')
        .addOption(new Option('--signing-alg <alg>', 'signature algorithm').choices(SIGNING_ALGORITHMS).default('RS256'))
        .option('--key-id <id>', 'key id written into the signature (kid)', 'default')
        .option('--claims-file <file>', 'JSON file of extra claims, e.g. {"scope": "write"} (as opa build --claims-file)')
        .option('-o, --output <file>', 'where to write the signed bundle (default: replace the input)')
        .action(async function signAction(this: Command, file: string) {
          const opts = this.opts<{ signingKey: string; signingAlg: string; keyId: string; claimsFile?: string; output?: string }>();
          try {
            const key = readSigningKey(opts.signingKey, opts.signingAlg);
            let claims: Record<string, unknown> | undefined;
            if (opts.claimsFile) {
              try {
                claims = JSON.parse(readFileSync(opts.claimsFile, 'utf8')) as Record<string, unknown>;
              } catch (err) {
                throw new BelayError('bad_request', `cannot read claims ${opts.claimsFile}: ${(err as Error).message}`);
              }
            }
            const signed = await signArchive(readBundleBytes(file), { ...key, keyId: opts.keyId, ...(claims ? { claims } : {}) });
            const out = opts.output ?? file;
            // Replace atomically: a watcher of this file never sees half a bundle.
            writeFileSync(`${out}.tmp`, signed);
            renameSync(`${out}.tmp`, out);
            process.stderr.write(`signed ${file} with ${opts.signingAlg} key ${opts.keyId} → ${out}\n`);
          } catch (err) {
            fail('bundle sign', err);
          }
        }),
    ),
  );

  bundle.addCommand(
    usageExitsTwo(
      withKeyFlags(
        new Command('verify')
          .description("verify a bundle's signature as the gateway does before serving it (exit 1 when refused)")
          .argument('<bundle>', 'bundle archive (.tar.gz)'),
      ).action(async function verifyAction(this: Command, file: string) {
        const opts = this.opts<KeyFlags>();
        let bytes: Buffer;
        let keys: VerificationConfig | null;
        try {
          bytes = readBundleBytes(file);
          keys = keysFrom(opts);
          if (!keys) throw new BelayError('bad_request', 'give --verification-key');
        } catch (err) {
          fail('bundle verify', err);
          return;
        }
        try {
          const { bundle: b, signature } = await loadBundle({ origin: file, archive: bytes }, { verification: keys });
          process.stdout.write(
            `verified: revision ${b.manifest.revision || '(none)'}, signed by key ${signature!.keyId} (${signature!.algorithm}), ${signature!.files.length} files\n`,
          );
          process.exitCode = EXIT.ok;
        } catch (err) {
          fail('bundle verify', err, EXIT.failed);
        }
      }),
    ),
  );
  return bundle;
}
