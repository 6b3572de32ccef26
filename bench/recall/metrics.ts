// Ranking metrics of the recall benchmark, at a cut-off k (10 in the report).
//
// relevance: memory id → grade (2 answers the question, 1 useful context); ids not in it are 0.
// recall@k = relevant ids in the top k / relevant ids (grades ignored).
// nDCG@k   = DCG@k / ideal DCG@k, with DCG = Σ grade(rank i) / log2(i + 1) for i = 1..k (linear
//            gain, as trec_eval): 1.0 when the best memories come first, 0 when none is in the top k.

export type Relevance = Readonly<Record<string, number>>;

const gradeOf = (relevance: Relevance, id: string) => (Object.hasOwn(relevance, id) ? (relevance[id] ?? 0) : 0);

export function recallAt(ranked: readonly string[], relevance: Relevance, k: number): number {
  const relevant = Object.keys(relevance).filter((id) => gradeOf(relevance, id) > 0);
  if (relevant.length === 0) throw new Error('a question needs at least one relevant memory');
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

function dcg(grades: readonly number[], k: number): number {
  return grades.slice(0, k).reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
}

export function ndcgAt(ranked: readonly string[], relevance: Relevance, k: number): number {
  // A memory listed twice counts once (at its best rank).
  const seen = new Set<string>();
  const grades = ranked.map((id) => {
    if (seen.has(id)) return 0;
    seen.add(id);
    return gradeOf(relevance, id);
  });
  const ideal = dcg(
    Object.values(relevance)
      .filter((g) => g > 0)
      .sort((a, b) => b - a),
    k,
  );
  if (ideal === 0) throw new Error('a question needs at least one relevant memory');
  return dcg(grades, k) / ideal;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
