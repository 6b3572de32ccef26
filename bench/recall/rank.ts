// Rankings the harness computes itself, as references for the server's semantic and hybrid modes.

/** Ids by descending dot product with `query` (the vectors are unit length: the cosine). */
export function cosineRanking(
  query: readonly number[],
  vectors: Readonly<Record<string, readonly number[]>>,
): string[] {
  const dot = (v: readonly number[]) => v.reduce((s, x, i) => s + x * (query[i] ?? 0), 0);
  return Object.entries(vectors)
    .map(([id, v]) => ({ id, score: dot(v) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .map((h) => h.id);
}

/**
 * Reciprocal Rank Fusion: score(id) = Σ over rankings of 1 / (k + rank), rank from 1; an id absent
 * from a ranking gets nothing from it. Ties keep the order of first appearance (earlier ranking,
 * better rank first).
 */
export function reciprocalRankFusion(rankings: readonly (readonly string[])[], k = 60): string[] {
  const score = new Map<string, number>();
  for (const ranking of rankings)
    ranking.forEach((id, i) => {
      score.set(id, (score.get(id) ?? 0) + 1 / (k + i + 1));
    });
  return [...score.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
}
