import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Fetch the remote JWKS at most this often, whatever kids the tokens name. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Refresh a key set older than this (stale keys stay usable if the refresh fails). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;

/** The key set could not be loaded: the API cannot tell good tokens from bad ones (503, not 401). */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
}

export interface RemoteKeySetOptions {
  cooldownMs?: number;
  maxAgeMs?: number;
  /** Clock, injectable so tests can step over the cooldown. */
  now?: () => number;
}

/**
 * A remote JWKS cached in the isolate. Unlike jose's createRemoteJWKSet, a fetch claims the
 * cooldown *before* it starts, and requests arriving meanwhile wait for it instead of starting
 * their own (on Workers jose cannot share a pending fetch across requests, so a burst of unknown
 * kids would be a burst of fetches). Known keys keep working while the JWKS endpoint is down.
 */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions = {}): JWTVerifyGetKey {
  const cooldownMs = options.cooldownMs ?? JWKS_COOLDOWN_MS;
  const maxAgeMs = options.maxAgeMs ?? JWKS_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let loadedAt = -Infinity;
  let attemptedAt = -Infinity;
  let loading = false;

  async function load(): Promise<void> {
    attemptedAt = now();
    loading = true;
    try {
      const res = await globalThis.fetch(url.href, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      keys = createLocalJWKSet((await res.json()) as JSONWebKeySet);
      loadedAt = now();
    } catch (err) {
      throw new KeySetUnavailable(
        `JWKS ${url.href} could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      loading = false;
    }
  }

  /** Fetches unless a fetch is in flight (then waits for it, polling: no promise shared across requests) or cooling down. */
  async function refresh(): Promise<void> {
    if (loading) {
      const deadline = Date.now() + JWKS_TIMEOUT_MS + 1_000;
      while (loading && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return;
    }
    if (now() - attemptedAt >= cooldownMs) await load();
  }

  return async (header, token) => {
    if (!keys) {
      await refresh();
      if (!keys)
        throw new KeySetUnavailable(
          `JWKS ${url.href} is not loaded (last attempt failed; retrying after the cooldown)`,
        );
    } else if (now() - loadedAt >= maxAgeMs) {
      await refresh().catch((err) =>
        console.warn(JSON.stringify({ event: 'jwks_refresh_failed', message: String(err) })),
      );
    }
    const current = keys;
    try {
      return await current(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      await refresh(); // an unknown kid may be a freshly rotated key
      if (keys === current) throw err;
      return keys(header, token);
    }
  };
}
