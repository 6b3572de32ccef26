// Shared by the benchmark's generator and runner.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const BENCH = {
  /** The measured tenant's own memories, identical in every dataset. */
  measuredMemories: 1_000,
};

/** The D1 SQLite file `wrangler dev --persist-to <dir>` serves. */
export function d1File(persistDir: string): string {
  const d = join(persistDir, 'v3', 'd1', 'miniflare-D1DatabaseObject');
  const files = existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite') : [];
  if (files.length !== 1) throw new Error(`expected one D1 .sqlite file in ${d}, found ${files.length}`);
  return join(d, files[0]!);
}
