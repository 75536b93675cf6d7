// `belay test [dir]`: the policy tests, conftest-style. Fixture cases and the
// Pod Security fixtures run through the compiled wasm bundle, `opa test` runs
// the Rego unit tests, and --differential holds wasm to `opa eval`'s answers.
// Exit status: 0 all passed, 1 a test failed, 2 usage or load error.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { buildBundle } from '../../bundle/build.js';
import { imageFactsSource } from '../../images/config.js';
import { findSuites, runGatekeeperSuites } from '../../policytest/gatekeeper.js';
import { findOpa } from '../../policytest/opa.js';
import { FORMATS, type Format, render, totals } from '../../policytest/reporters/index.js';
import { runSuite, stalenessNote } from '../../policytest/suite.js';
import { addImageOptions, defaultBundle, EXIT, fail, type ImageFlags, imageLookupFromFlags, usageExitsTwo } from './shared.js';

interface TestOptions extends ImageFlags {
  bundle: string;
  build?: boolean;
  policies: string;
  podSecurity: string | false;
  opaTest: boolean;
  differential?: boolean;
  output: Format;
  run?: string;
  quiet?: boolean;
  verbose?: boolean;
  color: boolean;
}

export function testCommand(): Command {
  const command = new Command('test')
    .description('run the policy tests: fixture cases and the Pod Security fixtures through the compiled wasm bundle, and opa test for the Rego unit tests')
    .argument('[dir]', 'policy test directory: cases in DIR/cases (else DIR itself); Rego tests (*_test.rego) run from the policies directory', 'policy-tests')
    .option(
      '-b, --bundle <file>',
      'the compiled bundle to test (what the gateway serves; default: $BELAY_BUNDLE, else the one built beside the installed belay)',
      defaultBundle(),
    )
    .option('--build', 'compile --policies with opa into a temporary bundle and test that instead of --bundle')
    .option('--policies <dir>', 'policy sources, for opa test, --build and --differential', 'policies')
    .option('--pod-security <dir>', 'Kubernetes Pod Security fixtures ({baseline,restricted}/{pass,fail}/*.yaml)', '../shared/fixtures/pod-security')
    .option('--no-pod-security', 'skip the Pod Security fixtures')
    .option('--no-opa-test', 'skip the Rego unit tests (opa test)')
    .option('--differential', "also ask opa eval every question and fail where its answer differs from the wasm bundle's")
    .addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('pretty'))
    .option('--run <regex>', 'only cases whose name or id matches')
    .option('-q, --quiet', 'list failures only (pretty output)')
    .option('-v, --verbose', 'gator output: every test and case, as gator verify -v')
    .option('--no-color', 'plain pretty output')
    .action(async function testAction(this: Command, dir: string) {
      const opts = this.opts<TestOptions>();
      let built: string | null = null;
      try {
        // Gatekeeper suites (test.gatekeeper.sh Suite files): alone in DIR they run as `gator verify DIR` would.
        const suiteFiles = findSuites(dir);
        let filter: RegExp | undefined;
        if (opts.run) {
          try {
            filter = new RegExp(opts.run);
          } catch (err) {
            throw new Error(`--run is not a valid regular expression: ${(err as Error).message}`);
          }
        }
        if (suiteFiles.length > 0 && !existsSync(path.join(dir, 'cases'))) {
          const start = performance.now();
          const items = await runGatekeeperSuites(suiteFiles, { opa: findOpa(), policies: opts.policies, ...(filter ? { filter } : {}) });
          const format = this.getOptionValueSource('output') === 'cli' ? opts.output : 'gator';
          const report = { bundle: null, items, notes: [], ms: performance.now() - start };
          process.stdout.write(
            render(format, report, { color: opts.color && process.stdout.isTTY === true, verbose: format === 'gator' ? opts.verbose === true : !opts.quiet }),
          );
          const t = totals(items);
          process.exitCode = t.failed + t.errors > 0 ? EXIT.failed : EXIT.ok;
          return;
        }
        const casesDir = existsSync(path.join(dir, 'cases')) ? path.join(dir, 'cases') : dir;
        if (!existsSync(casesDir)) throw new Error(`no policy tests at ${dir}`);
        const notes: string[] = [];

        let bundlePath = opts.bundle;
        if (opts.build) {
          built = mkdtempSync(path.join(tmpdir(), 'belay-test-'));
          bundlePath = path.join(built, 'bundle.tar.gz');
          await buildPolicies(findOpa(), opts.policies, bundlePath);
          notes.push(`built ${opts.policies} into a temporary bundle`);
        } else {
          const stale = stalenessNote(bundlePath, opts.policies);
          if (stale) notes.push(stale);
        }

        let podSecurityDir: string | null = null;
        if (opts.podSecurity !== false) {
          const explicit = this.getOptionValueSource('podSecurity') === 'cli';
          if (existsSync(opts.podSecurity)) podSecurityDir = opts.podSecurity;
          else if (explicit) throw new Error(`Pod Security fixtures not found at ${opts.podSecurity}`);
          else notes.push(`Pod Security fixtures not found at ${opts.podSecurity}; skipped`);
        }

        const opaTestPaths = opts.opaTest ? [opts.policies, path.join(dir, 'rego')].filter((p) => existsSync(p)) : null;

        const report = await runSuite({
          bundlePath,
          casesDir,
          casesRoot: dir,
          podSecurityDir,
          ...(filter ? { filter } : {}),
          opaTestPaths,
          differential: opts.differential ? { sources: [opts.policies] } : null,
          notes,
          ...(lookups(opts) ? { images: imageFactsSource(imageLookupFromFlags(opts)) } : {}),
        });
        if (suiteFiles.length > 0) {
          report.items.push(...(await runGatekeeperSuites(suiteFiles, { opa: findOpa(), policies: opts.policies, ...(filter ? { filter } : {}) })));
        }
        process.stdout.write(
          render(opts.output, report, {
            color: opts.color && process.stdout.isTTY === true,
            verbose: opts.output === 'gator' ? opts.verbose === true : !opts.quiet,
          }),
        );
        const t = totals(report.items);
        process.exitCode = t.failed + t.errors > 0 ? EXIT.failed : EXIT.ok;
      } catch (err) {
        fail('test', err);
      } finally {
        if (built) rmSync(built, { recursive: true, force: true });
      }
    });
  // No registry by default: a case states the facts it depends on, so a run repeats offline.
  addImageOptions(command, { registries: 'none', timeout: '5s' });
  return usageExitsTwo(command);
}

/** Whether images a case does not state are looked up (only with --image-registries). */
function lookups(opts: TestOptions): boolean {
  return imageLookupFromFlags(opts).registries?.length !== 0;
}

/** `opa build -t wasm` as `make bundle` runs it: entrypoints from their annotations, tests left out. */
async function buildPolicies(opa: string, policies: string, out: string): Promise<void> {
  await buildBundle({ opa, policies, out, revision: gitRevision() ?? 'local' });
}

function gitRevision(): string | null {
  try {
    return (
      execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}
