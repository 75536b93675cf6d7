// Writes the corpus under testdata/: one file per document and labels.json
// with every secret's type and span. Deterministic (fixed seed), so the
// committed files can be regenerated and checked: npx tsx src/scan/corpus/generate.ts

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildCorpus, CORPUS_DIR, CORPUS_SEED, type CorpusIndex } from './corpus.js';

export function writeCorpus(dir = CORPUS_DIR): CorpusIndex {
  const docs = buildCorpus(CORPUS_SEED);
  rmSync(dir, { recursive: true, force: true });
  for (const d of docs) {
    mkdirSync(dirname(join(dir, d.file)), { recursive: true });
    writeFileSync(join(dir, d.file), d.text);
  }
  const index: CorpusIndex = { seed: CORPUS_SEED, documents: docs.map(({ file, channel, labels }) => ({ file, channel, labels })) };
  writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(index, null, 1)}\n`);
  return index;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const index = writeCorpus();
  const labels = index.documents.reduce((n, d) => n + d.labels.length, 0);
  const types = new Set(index.documents.flatMap((d) => d.labels.map((l) => l.type)));
  console.log(`wrote ${index.documents.length} documents, ${labels} labelled secrets of ${types.size} types to ${CORPUS_DIR}`);
}
