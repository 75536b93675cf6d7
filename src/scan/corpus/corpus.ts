// The secrets corpus: fake credentials of ~50 kinds in realistic prompts and
// tool results, plus hard negatives, each secret labelled with its exact span.
// `buildCorpus()` makes it from a fixed seed; `generate.ts` writes it under
// testdata/ (where gitleaks and detect-secrets read it too) and
// `loadCorpus()` reads it back.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakes, Rng } from './fakes.js';
import { negatives } from './negatives.js';
import { prompts } from './prompts.js';
import { type Channel, type CorpusDoc, finish, type Label } from './template.js';
import { toolResults } from './tool-results.js';

export type { Channel, CorpusDoc, Label } from './template.js';

export const CORPUS_SEED = 20261211;
export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const FOLDERS: Record<Channel, string> = { prompt: 'prompts', 'tool-result': 'tool-results', negative: 'negatives' };

export interface CorpusIndex {
  seed: number;
  documents: { file: string; channel: Channel; labels: Label[] }[];
}

export function buildCorpus(seed = CORPUS_SEED): CorpusDoc[] {
  const f = fakes(new Rng(seed));
  const docs: CorpusDoc[] = [];
  for (const [channel, items] of [
    ['prompt', prompts(f)],
    ['tool-result', toolResults(f)],
    ['negative', negatives(f)],
  ] as const) {
    for (const [name, built] of items) docs.push(finish(`${FOLDERS[channel]}/${name}`, channel, built));
  }
  return docs;
}

/** The committed corpus, as the scanners see it on disk. */
export function loadCorpus(dir = CORPUS_DIR): CorpusDoc[] {
  const index = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as CorpusIndex;
  return index.documents.map((d) => ({ ...d, text: readFileSync(join(dir, d.file), 'utf8') }));
}
