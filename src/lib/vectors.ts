// Vector math for the embedded (d1) engine and the fusion of rankings. Pure: no I/O.
// Vectors are stored as float32 little-endian BLOBs (4 bytes a dimension) and travel from D1 as
// hex text (a BLOB arrives as an array of numbers, several times larger).

/** A vector as the hex of its float32 little-endian bytes (the SQL side stores unhex(...) of it). */
export function toFloat32Hex(vector: readonly number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Value of a hex digit by char code (SQLite's hex() writes upper case; toFloat32Hex lower). */
const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** hex(vector) from SQLite → Float32Array (little-endian, as stored). */
export function fromFloat32Hex(hex: string): Float32Array {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0, j = 0; i < bytes.length; i++, j += 2)
    bytes[i] = (NIBBLE[hex.charCodeAt(j)]! << 4) | NIBBLE[hex.charCodeAt(j + 1)]!;
  return new Float32Array(bytes.buffer);
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export interface Neighbour {
  seq: number;
  score: number;
}

/** Exact k nearest by cosine, best first; ties by seq (oldest first), so the order is total. */
export function nearest(query: readonly number[], rows: { seq: number; v: string }[], k: number): Neighbour[] {
  const q = Float32Array.from(query);
  const scored = rows.map((r) => ({ seq: r.seq, score: cosine(q, fromFloat32Hex(r.v)) }));
  scored.sort((a, b) => b.score - a.score || a.seq - b.seq);
  return scored.slice(0, k);
}

/** Reciprocal Rank Fusion constant (Cormack et al., 2009). */
export const RRF_K = 60;

/**
 * Hybrid defaults: the vector ranking counts half as much as the keyword one, and only its top
 * `top_k` are fused (the keyword ranking's top 100). A deep vector list of weak neighbours, each
 * adding ~1/(60 + rank), pushed keyword answers out of the top 10 (bench/RESULTS.md, "Recall quality").
 */
export const FUSION_WEIGHTS_DEFAULT = { keyword: 1, vector: 0.5 } as const;

export interface Fused {
  seq: number;
  score: number;
  keyword_rank: number | null;
  vector_rank: number | null;
}

/**
 * Reciprocal Rank Fusion: score = Σ weight / (RRF_K + rank) over the rankings that hold the item
 * (ranks from 1). Best first; ties by seq.
 */
export function reciprocalRankFusion(
  keyword: readonly number[],
  vector: readonly number[],
  weights: { keyword: number; vector: number } = { keyword: 1, vector: 1 },
): Fused[] {
  const out = new Map<number, Fused>();
  const add = (seqs: readonly number[], weight: number, which: 'keyword_rank' | 'vector_rank') => {
    seqs.forEach((seq, i) => {
      const f = out.get(seq) ?? { seq, score: 0, keyword_rank: null, vector_rank: null };
      f.score += weight / (RRF_K + i + 1);
      f[which] = i + 1;
      out.set(seq, f);
    });
  };
  add(keyword, weights.keyword, 'keyword_rank');
  add(vector, weights.vector, 'vector_rank');
  return [...out.values()].sort((a, b) => b.score - a.score || a.seq - b.seq);
}
