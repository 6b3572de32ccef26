// The recall benchmark (bench/recall): its metrics on hand-computed rankings, and a data set that
// is well-formed (labels point at real memories, vectors match the texts they were made from).
import { describe, expect, it } from 'vitest';
import { memories } from '../../bench/recall/memories';
import { mean, ndcgAt, recallAt } from '../../bench/recall/metrics';
import { questions } from '../../bench/recall/questions';
import { cosineRanking, reciprocalRankFusion } from '../../bench/recall/rank';
import { datasetHash, loadVectors } from '../../bench/recall/vectors';

describe('recall@k', () => {
  const relevance = { a: 2, b: 1 };

  it('is the share of relevant memories in the top k, whatever their grade and order', () => {
    expect(recallAt(['a', 'b'], relevance, 10)).toBe(1);
    expect(recallAt(['x', 'b', 'y'], relevance, 10)).toBe(0.5);
    expect(recallAt(['x', 'y'], relevance, 10)).toBe(0);
    expect(recallAt([], relevance, 10)).toBe(0);
  });

  it('ignores hits past k', () => {
    const ranked = ['a', ...'cdefghijk'.split(''), 'b'];
    expect(ranked.indexOf('b')).toBe(10);
    expect(recallAt(ranked, relevance, 10)).toBe(0.5);
    expect(recallAt(ranked, relevance, 11)).toBe(1);
  });

  it('refuses a question without a relevant memory', () => {
    expect(() => recallAt(['a'], {}, 10)).toThrow();
    expect(() => recallAt(['a'], { a: 0 }, 10)).toThrow();
  });
});

describe('nDCG@k (linear gain, log2 discount)', () => {
  const relevance = { a: 2, b: 1 };

  it('is 1 for the ideal order and 0 without a relevant hit', () => {
    expect(ndcgAt(['a', 'b', 'x'], relevance, 10)).toBe(1);
    expect(ndcgAt(['x', 'y'], relevance, 10)).toBe(0);
  });

  it('matches hand-computed values', () => {
    // Swapped: DCG = 1/log2(2) + 2/log2(3) = 2.26186; ideal = 2/log2(2) + 1/log2(3) = 2.63093.
    expect(ndcgAt(['b', 'a'], relevance, 10)).toBeCloseTo(0.859719, 6);
    // Only the grade-2 memory, at rank 2: (2/log2(3)) / 2 = 0.63093.
    expect(ndcgAt(['x', 'a'], { a: 2 }, 10)).toBeCloseTo(0.63093, 6);
    // Three relevant (2, 1, 1), only a grade-1 at rank 2: (1/log2(3)) / (2 + 1/log2(3) + 1/log2(4)).
    expect(ndcgAt(['x', 'b', 'y'], { a: 2, b: 1, c: 1 }, 10)).toBeCloseTo(0.201515, 6);
  });

  it('cuts both the ranking and the ideal at k, and counts a repeated memory once', () => {
    // Ideal at k = 1 is just the best grade: b at rank 1 → 1/2.
    expect(ndcgAt(['b', 'a'], relevance, 1)).toBe(0.5);
    expect(ndcgAt(['x', 'a'], { a: 2 }, 1)).toBe(0);
    expect(ndcgAt(['a', 'a', 'b'], relevance, 10)).toBeCloseTo((2 + 1 / 2) / (2 + 1 / Math.log2(3)), 12);
  });

  it('averages', () => {
    expect(mean([1, 0, 0.5])).toBe(0.5);
  });
});

describe('reference rankings computed by the harness', () => {
  it('ranks by cosine', () => {
    const vectors = { a: [1, 0], b: [0.6, 0.8], c: [0, 1], d: [-1, 0] };
    expect(cosineRanking([0.8, 0.6], vectors)).toEqual(['b', 'a', 'c', 'd']); // 0.96, 0.8, 0.6, -0.8
    expect(cosineRanking([0, 1], vectors)).toEqual(['c', 'b', 'a', 'd']);
  });

  it('divides out the norms (a longer vector does not win on length)', () => {
    // Dot products with [1, 0]: long 2, short 0.99; cosines: long 0.99875, short 1.
    expect(cosineRanking([1, 0], { long: [2, 0.1], short: [0.99, 0] })).toEqual(['short', 'long']);
  });

  it('fuses rankings with RRF (k = 60)', () => {
    // x: 1/61 + 1/63 = 0.032266; y: 1/62 + 1/62 = 0.032258; z: 1/63 + 1/61 ties x and comes after it
    // (first seen later); w is in one ranking only: 1/64.
    expect(
      reciprocalRankFusion([
        ['x', 'y', 'z', 'w'],
        ['z', 'y', 'x'],
      ]),
    ).toEqual(['x', 'z', 'y', 'w']);
    // k sets the weight of the head: with k = 0 a single first place (1/1) beats 1/2 + 1/3; with
    // k = 60, 1/62 + 1/63 beats 1/61.
    expect(
      reciprocalRankFusion(
        [
          ['a', 'b'],
          ['c', 'd', 'b'],
        ],
        0,
      ),
    ).toEqual(['a', 'c', 'b', 'd']);
    expect(
      reciprocalRankFusion(
        [
          ['a', 'b'],
          ['c', 'd', 'b'],
        ],
        60,
      ),
    ).toEqual(['b', 'a', 'c', 'd']);
  });
});

describe('the recall data set', () => {
  const memoryIds = new Set(memories.map((m) => m.id));
  const normal = (s: string) => (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');

  it('has a few hundred memories and at least 50 questions, each id once', () => {
    expect(memories.length).toBeGreaterThanOrEqual(200);
    expect(questions.length).toBeGreaterThanOrEqual(50);
    expect(memoryIds.size).toBe(memories.length);
    expect(new Set(questions.map((q) => q.id)).size).toBe(questions.length);
  });

  it('labels only memories that exist, with at least one answer per question', () => {
    for (const q of questions) {
      for (const [id, grade] of Object.entries(q.relevant)) {
        expect(memoryIds.has(id), `${q.id} → ${id}`).toBe(true);
        expect([1, 2]).toContain(grade);
      }
      expect(Object.values(q.relevant), q.id).toContain(2);
    }
  });

  it('never asks a question in the words of a memory', () => {
    const texts = new Set(memories.map((m) => normal(m.content)));
    for (const q of questions) expect(texts.has(normal(q.question)), q.id).toBe(false);
  });

  it('has a committed unit vector for every memory and question, made from their current text', () => {
    const v = loadVectors();
    expect(v.texts_sha256, 'vectors.json is stale: run npx tsx bench/recall/embed.ts').toBe(datasetHash());
    expect(v.dimensions).toBe(100);
    expect(Object.keys(v.memories).sort()).toEqual([...memoryIds].sort());
    expect(Object.keys(v.questions).sort()).toEqual(questions.map((q) => q.id).sort());
    for (const vec of [...Object.values(v.memories), ...Object.values(v.questions)]) {
      expect(vec).toHaveLength(100);
      expect(vec.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...vec)).toBeCloseTo(1, 2);
    }
  });
});
