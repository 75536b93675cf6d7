// What an approver reads instead of a raw JSON patch: the object before and
// after the patch as YAML, and a line diff of the two (jsdiff), so a fix like
// "add runAsNonRoot" shows up where it lands in the manifest.

import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import { applyEdit } from '../approvals/override.js';
import type { JsonObject, PatchOperation } from '../contract/index.js';

export type DiffLineKind = 'context' | 'add' | 'remove' | 'hunk';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

export type PatchPreview = { ok: true; after: JsonObject; diff: DiffLine[] } | { ok: false; message: string };

/** Lines of context around each change: enough to see where in the manifest it lands. */
const CONTEXT_LINES = 3;
/** Longer diffs are cut: a human does not read more, and the list stays small. */
const MAX_DIFF_LINES = 2_000;

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * A diff of two large, very different objects is costly and runs on the
 * gateway's event loop, next to admission: past this budget it is not shown.
 */
const DIFF_BUDGET_MS = 100;

export interface DiffLimits {
  timeoutMs?: number;
  /** Largest number of changed lines worth computing. */
  maxEditLength?: number;
}

/** The line diff of two values rendered as YAML. */
export function yamlDiff(before: unknown, after: unknown, { timeoutMs = DIFF_BUDGET_MS, maxEditLength }: DiffLimits = {}): DiffLine[] {
  const limits = maxEditLength !== undefined ? { timeout: timeoutMs, maxEditLength } : { timeout: timeoutMs };
  const patch = structuredPatch('before', 'after', toYaml(before), toYaml(after), undefined, undefined, { context: CONTEXT_LINES, ...limits });
  if (!patch) return [{ kind: 'hunk', text: 'the change is too large to show as a diff; see the JSON patch' }];
  const lines: DiffLine[] = [];
  for (const hunk of patch.hunks) {
    lines.push({ kind: 'hunk', text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@` });
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue; // "\ No newline at end of file"
      const kind: DiffLineKind = line.startsWith('+') ? 'add' : line.startsWith('-') ? 'remove' : 'context';
      lines.push({ kind, text: line.slice(1) });
      if (lines.length >= MAX_DIFF_LINES) {
        lines.push({ kind: 'hunk', text: `… diff cut at ${MAX_DIFF_LINES} lines` });
        return lines;
      }
    }
  }
  return lines;
}

/**
 * The object with a patch applied (the proposed fix, or an approver's edit),
 * and the diff it makes. A patch that does not apply is reported, not thrown:
 * the console still shows the request and the raw operations.
 */
export function previewPatch(object: JsonObject, patch: readonly PatchOperation[]): PatchPreview {
  const applied = applyEdit(object, patch);
  if (!applied.ok) return applied;
  return { ok: true, after: applied.object, diff: yamlDiff(object, applied.object) };
}
