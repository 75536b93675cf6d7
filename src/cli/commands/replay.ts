// `belay replay --bundle candidate.tar.gz LOG.jsonl...`: what a policy change
// would do to recorded traffic, as text or as Markdown for a PR comment.
// Exit status: 0 (or 1 with --fail-on-change when an outcome changes), 2 usage or load error.

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { BelayError } from '../../errors.js';
import { type LoggedDecision, parseDecisionLog } from '../../observe/decision-log.js';
import { renderReplayMarkdown, renderReplayText, replay } from '../../policytest/replay.js';
import { loadBundleFile } from '../../policytest/suite.js';
import { EXIT, fail, usageExitsTwo } from './shared.js';

export function replayCommand(): Command {
  const command = new Command('replay')
    .description('re-evaluate recorded decisions (a decision log) against a candidate bundle and report every changed outcome')
    .argument('<logs...>', 'decision log files (JSON lines, as written by serve --decision-log)')
    .requiredOption('-b, --bundle <file>', 'the candidate bundle')
    .option('--baseline <file>', 'compare with this bundle evaluated on the same inputs instead of the recorded decisions')
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--limit <n>', 'rows in the Markdown table', (v) => Number.parseInt(v, 10), 100)
    .option('--fail-on-change', 'exit 1 when any outcome changes')
    .action(async function replayAction(this: Command, logs: string[]) {
      const opts = this.opts<{ bundle: string; baseline?: string; format: 'text' | 'markdown' | 'json'; limit: number; failOnChange?: boolean }>();
      try {
        const entries: LoggedDecision[] = [];
        for (const file of logs) {
          let text: string;
          try {
            text = readFileSync(file, 'utf8');
          } catch (err) {
            throw new BelayError('bad_request', `cannot read decision log ${file}: ${(err as Error).message}`);
          }
          const parsed = parseDecisionLog(text);
          if (parsed.errors.length > 0) {
            const e = parsed.errors[0]!;
            throw new BelayError(
              'bad_request',
              `${file}:${e.line}: not a decision record (${e.message})${parsed.errors.length > 1 ? ` and ${parsed.errors.length - 1} more` : ''}`,
            );
          }
          entries.push(...parsed.entries);
        }
        entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
        const candidate = await loadBundleFile(opts.bundle);
        const baseline = opts.baseline ? await loadBundleFile(opts.baseline) : null;
        const report = await replay(entries, candidate.active, baseline?.active ?? null);
        await candidate.active.evaluator.close();
        await baseline?.active.evaluator.close();
        process.stdout.write(
          opts.format === 'json'
            ? `${JSON.stringify(report, null, 2)}\n`
            : opts.format === 'markdown'
              ? renderReplayMarkdown(report, { limit: opts.limit })
              : renderReplayText(report),
        );
        process.exitCode = opts.failOnChange && report.changes.length > 0 ? EXIT.failed : EXIT.ok;
      } catch (err) {
        fail('replay', err);
      }
    });
  return usageExitsTwo(command);
}
