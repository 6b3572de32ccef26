import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { call } from '../helpers/http';
import { fuzzContract } from './engine';

// Reproduce or vary a run: FUZZ_SEED=123 npx vitest run --project workers test/fuzz
const SEED = Number(env.FUZZ_SEED || 20261128);
const TOTAL_REQUESTS = 1200;
const MIN_PER_OPERATION = 24;

describe('contract fuzzing (seeded, every operation of /openapi.json)', () => {
  it('answers every generated request as the document says, and writes only what it acknowledges', {
    timeout: 180_000,
  }, async () => {
    // The Worker logs every refused token and error; thousands of lines would bury the result.
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const run = await fuzzContract({
      send: call,
      seed: SEED,
      totalRequests: TOTAL_REQUESTS,
      minPerOperation: MIN_PER_OPERATION,
    });
    console.log(run.summary);
    console.log(`valid requests by operation and status: ${JSON.stringify(run.validOutcomes)}`);
    expect(run.failures, run.failures.slice(0, 10).join('\n')).toEqual([]);
    expect(run.sent).toBeGreaterThanOrEqual(run.operations * MIN_PER_OPERATION);
  });
});
