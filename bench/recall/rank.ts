// Rankings the harness computes itself, as references for the server's semantic and hybrid modes.

/**
 * Ids by descending cosine with `query`. The committed vectors are unit length only up to their
 * 4-decimal rounding, so the norms are divided out: a plain dot product can swap near-ties.
 */
export function cosineRanking(
  query: readonly number[],
  vectors: Readonly<Record<string, readonly number[]>>,
): string[] {
  const norm = (v: readonly number[]) => Math.hypot(...v);
  const q = norm(query);
  const cosine = (v: readonly number[]) => v.reduce((s, x, i) => s + x * (query[i] ?? 0), 0) / (q * norm(v));
  return Object.entries(vectors)
    .map(([id, v]) => ({ id, score: cosine(v) }))
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
