// `belay check FILE...`: manifests checked as an agent's write would be,
// conftest-style; --fix writes the policy's fixes into the files in place
// (only the lines that change; a symlink's target is what gets written) and
// --diff shows them as a unified diff. Without --fix nothing is written and
// nothing says "fixed". Exit status: 0 every object admitted unchanged (or
// fixed with --fix), 1 an object is refused, needs fixes or a person, 2 usage
// or load error.

import { chmodSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { BelayError } from '../../errors.js';
import { imageFactsSource } from '../../images/config.js';
import { ACTORS, listCaseFiles } from '../../policytest/cases.js';
import { checkManifest, type DocResult } from '../../policytest/check.js';
import { type ReportItem, render, totals } from '../../policytest/reporters/index.js';
import { loadBundleFile } from '../../policytest/suite.js';
import { addImageOptions, defaultBundle, EXIT, fail, type ImageFlags, imageLookupFromFlags, usageExitsTwo } from './shared.js';

interface CheckFlags extends ImageFlags {
  bundle?: string;
  fix?: boolean;
  diff?: boolean;
  as: string;
  group?: string[];
  namespace: string;
  namespaceLabel?: string[];
  output: 'pretty' | 'json' | 'junit' | 'tap';
  color: boolean;
}

function labels(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i <= 0) throw new BelayError('bad_request', `--namespace-label must be key=value, got ${JSON.stringify(l)}`);
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

const ACTUAL: Record<DocResult['status'], (r: DocResult) => string> = {
  pass: () => 'admitted unchanged',
  fixed: () => 'fixed',
  fixable: () => 'would fix: admitted only with the fixes below (run with --fix to write them, --diff to see them)',
  deny: (r) => `denied: ${r.message ?? ''}`,
  defer: (r) => `needs a human decision: ${r.message ?? ''}`,
  human: (r) => `needs a human change: ${r.message ?? ''}`,
  error: (r) => r.message ?? 'error',
};

function item(r: DocResult): ReportItem {
  const what = `${r.kind || '?'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(unnamed)'}${r.item ? ` (item ${r.item})` : ''}`;
  const status = r.status === 'pass' || r.status === 'fixed' ? 'pass' : r.status === 'error' ? 'error' : 'fail';
  const detail = [
    ...r.reasons.map((x) => `reason ${x.rule} (${x.severity}): ${x.message}`),
    ...(r.patch.length ? [`fix: ${JSON.stringify(r.patch)}`] : []),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return {
    suite: r.file,
    id: `${r.file}#${r.doc}${r.item ? `.${r.item}` : ''}`,
    name: `${what}${r.status === 'fixed' ? ' — fixed' : r.status === 'fixable' ? ' — would fix' : ''}`,
    file: r.file,
    line: r.line,
    status,
    ms: 0,
    mismatches: status === 'pass' ? [] : [{ field: 'admission', expected: 'admitted unchanged', actual: ACTUAL[r.status](r), detail }],
    observed: r,
  };
}

/** Each file once, even when named twice or also through a symlink (a fix is written once). */
function sameFileOnce(files: string[]): string[] {
  const seen = new Set<string>();
  return files.filter((f) => {
    let real = f;
    try {
      real = realpathSync(f);
    } catch {
      // reading it will report the problem
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** Writes through a symlink to its target (the link stays a link), atomically, keeping the file's mode. */
function writeInPlace(file: string, text: string): void {
  const target = realpathSync(file);
  const mode = statSync(target).mode & 0o7777;
  const tmp = `${target}.belay-tmp-${process.pid}`;
  writeFileSync(tmp, text);
  chmodSync(tmp, mode);
  renameSync(tmp, target);
}

/** A git-style unified diff of one file (without the "Index:" and "===" lines of the diff library). */
function unifiedDiff(name: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, '', '', { context: 3 });
  return patch.slice(patch.indexOf('--- '));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function checkCommand(): Command {
  const command = new Command('check')
    .description("check Kubernetes manifests as an agent's write of them would be checked; --fix writes the policy's fixes into the files in place")
    .argument('<files...>', 'YAML or JSON manifests (several documents per file; directories are searched)')
    .option('-b, --bundle <file>', 'compiled policy bundle (default: $BELAY_BUNDLE, else the one built beside the installed belay)')
    .option('--fix', "write the policy's fixes into the files, touching only the lines that change")
    .option('--diff', 'print a unified diff of what --fix changes (or, without --fix, would change)')
    .option('--as <user>', 'who writes: agent, human, admin or a username', 'agent')
    .option('--group <group...>', 'groups of --as when it is a username')
    .option('-n, --namespace <ns>', 'namespace for objects that name none', 'default')
    .option('--namespace-label <key=value...>', 'labels of the namespace (as the gateway would see them in a cluster)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['pretty', 'json', 'junit', 'tap']).default('pretty'))
    .option('--no-color', 'plain pretty output')
    .action(async function checkAction(this: Command, inputs: string[]) {
      const opts = this.opts<CheckFlags>();
      try {
        const preset = ACTORS[opts.as as keyof typeof ACTORS];
        const user = preset ? { username: preset.username, groups: [...preset.groups] } : { username: opts.as, groups: opts.group ?? [] };
        const namespaceLabels = labels(opts.namespaceLabel);
        const files = sameFileOnce(inputs.flatMap((f) => listCaseFiles(f)));
        const texts = files.map((f) => {
          try {
            return readFileSync(f, 'utf8');
          } catch (err) {
            throw new BelayError('bad_request', `cannot read ${f}: ${(err as Error).message}`);
          }
        });
        // Image facts are read the way the gateway reads them, with this machine's docker config.
        const images = imageFactsSource(imageLookupFromFlags(opts));
        const bundlePath = opts.bundle ?? defaultBundle();
        const { active, bundle } = await loadBundleFile(bundlePath);
        const started = performance.now();
        const items: ReportItem[] = [];
        const notes: string[] = [];
        const diffs: string[] = [];
        const changed: string[] = [];
        let objects = 0;
        for (const [i, file] of files.entries()) {
          const shown = path.relative(process.cwd(), file) || file;
          const result = await checkManifest(file, texts[i]!, active, {
            user,
            namespace: opts.namespace,
            ...(namespaceLabels ? { namespaceLabels } : {}),
            // --diff alone computes the edit to show it, and writes nothing.
            fix: opts.fix === true || opts.diff === true,
            preview: opts.fix !== true,
            images,
          });
          items.push(...result.results.map(item));
          // Shown even when the object passes: the file does not say what kubectl will read.
          for (const w of new Set(result.results.flatMap((r) => r.warnings.filter((x) => x.startsWith('duplicate key '))))) notes.push(`${shown}: ${w}`);
          if (result.fixed === undefined) continue;
          objects += result.results.filter((r) => r.status === 'fixed' || r.status === 'fixable').length;
          changed.push(shown);
          if (opts.diff) diffs.push(unifiedDiff(shown, texts[i]!, result.fixed));
          if (opts.fix) writeInPlace(file, result.fixed);
        }
        await active.evaluator.close();
        const wouldFix = items.filter((it) => (it.observed as DocResult).status === 'fixable').length;
        if (opts.fix && changed.length) notes.push(`fixed ${plural(objects, 'object')} in ${plural(changed.length, 'file')}: ${changed.join(', ')}`);
        if (!opts.fix && wouldFix)
          notes.push(`would fix ${plural(wouldFix, 'object')}: run with --fix to write the fixes${opts.diff ? '' : ', --diff to see them'}`);
        const report = {
          bundle: { path: bundlePath, revision: bundle.manifest.revision, digest: bundle.digest },
          items,
          notes,
          ms: performance.now() - started,
        };
        // The diff goes to stdout before a human report, and to stderr when stdout carries JSON, JUnit or TAP.
        const diffText = diffs.join('');
        if (diffText && opts.output === 'pretty') process.stdout.write(diffText);
        else if (diffText) process.stderr.write(diffText);
        process.stdout.write(render(opts.output, report, { color: opts.color && process.stdout.isTTY === true }));
        const t = totals(items);
        process.exitCode = t.failed + t.errors > 0 ? EXIT.failed : EXIT.ok;
      } catch (err) {
        fail('check', err);
      }
    });
  // Any registry by default: check reads what the manifests really run.
  addImageOptions(command, { registries: '*', timeout: '5s' });
  return usageExitsTwo(command);
}
