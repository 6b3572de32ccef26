import { DurableObject } from 'cloudflare:workers';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the current window ends and the full quota is available again. */
  resetMs: number;
}

/**
 * One instance per tenant (idFromName(tenant id)): a fixed window that starts with the first
 * request and lasts `windowMs`. A single-threaded object, so counting is exact without storage;
 * the count lives in memory (an object evicted after idling has nothing worth keeping).
 */
export class RateLimiter extends DurableObject {
  private windowStart = 0;
  private count = 0;

  take(limit: number, windowMs: number): RateDecision {
    const now = Date.now();
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    return {
      allowed: this.count <= limit,
      limit,
      remaining: Math.max(0, limit - this.count),
      resetMs: this.windowStart + windowMs - now,
    };
  }
}
