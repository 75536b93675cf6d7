// `belay check FILE...`: manifests checked as an agent's write would be,
// conftest-style; --fix writes the compliant YAML back, comments kept.
// Exit status: 0 every object admitted unchanged (or fixed with --fix),
// 1 an object is refused or needs fixes, 2 usage or load error.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { BelayError } from '../../errors.js';
import { ACTORS, listCaseFiles } from '../../policytest/cases.js';
import { checkManifest, type DocResult } from '../../policytest/check.js';
import { type ReportItem, render, totals } from '../../policytest/reporters/index.js';
import { loadBundleFile } from '../../policytest/suite.js';
import { EXIT, fail, usageExitsTwo } from './shared.js';

interface CheckFlags {
  bundle: string;
  fix?: boolean;
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

function item(r: DocResult): ReportItem {
  const what = `${r.kind || '?'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(unnamed)'}${r.item ? ` (item ${r.item})` : ''}`;
  const status = r.status === 'pass' || r.status === 'fixed' ? 'pass' : r.status === 'error' ? 'error' : 'fail';
  const detail = [
    ...r.reasons.map((x) => `reason ${x.rule} (${x.severity}): ${x.message}`),
    ...(r.patch.length ? [`fix: ${JSON.stringify(r.patch)}`] : []),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  const actual = {
    pass: 'admitted unchanged',
    fixed: 'fixed',
    fixable: 'admitted only with fixes (run with --fix to write them)',
    deny: `denied: ${r.message ?? ''}`,
    defer: `needs an approval: ${r.message ?? ''}`,
    error: r.message ?? 'error',
  }[r.status];
  return {
    suite: r.file,
    id: `${r.file}#${r.doc}${r.item ? `.${r.item}` : ''}`,
    name: `${what}${r.status === 'fixed' ? ' — fixed' : ''}`,
    file: r.file,
    line: r.line,
    status,
    ms: 0,
    mismatches: status === 'pass' ? [] : [{ field: 'admission', expected: 'admitted unchanged', actual, detail }],
    observed: r,
  };
}

export function checkCommand(): Command {
  const command = new Command('check')
    .description("check Kubernetes manifests as an agent's write of them would be checked; --fix writes the compliant YAML back")
    .argument('<files...>', 'YAML or JSON manifests (several documents per file; directories are searched)')
    .option('-b, --bundle <file>', 'compiled policy bundle', '.build/bundle.tar.gz')
    .option('--fix', 'write the fixes policy makes into the files (YAML comments and layout kept)')
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
        const files = inputs.flatMap((f) => listCaseFiles(f));
        const texts = files.map((f) => {
          try {
            return readFileSync(f, 'utf8');
          } catch (err) {
            throw new BelayError('bad_request', `cannot read ${f}: ${(err as Error).message}`);
          }
        });
        const { active, bundle } = await loadBundleFile(opts.bundle);
        const started = performance.now();
        const items: ReportItem[] = [];
        const notes: string[] = [];
        for (const [i, file] of files.entries()) {
          const result = await checkManifest(file, texts[i]!, active, {
            user,
            namespace: opts.namespace,
            ...(namespaceLabels ? { namespaceLabels } : {}),
            fix: opts.fix === true,
          });
          items.push(...result.results.map(item));
          if (result.fixed !== undefined) {
            writeFileSync(`${file}.belay-tmp`, result.fixed);
            renameSync(`${file}.belay-tmp`, file);
            notes.push(`fixed ${path.relative(process.cwd(), file) || file}`);
          }
        }
        await active.evaluator.close();
        const report = {
          bundle: { path: opts.bundle, revision: bundle.manifest.revision, digest: bundle.digest },
          items,
          notes,
          ms: performance.now() - started,
        };
        process.stdout.write(render(opts.output, report, { color: opts.color && process.stdout.isTTY === true }));
        const t = totals(items);
        process.exitCode = t.failed + t.errors > 0 ? EXIT.failed : EXIT.ok;
      } catch (err) {
        fail('check', err);
      }
    });
  return usageExitsTwo(command);
}
