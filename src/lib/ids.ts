// Prefixed, time-sortable ids: "<prefix>_" + ULID (48-bit ms timestamp + 80 random bits, Crockford base32).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'ten' | 'usr' | 'mem' | 'ses' | 'aud' | 'sub' | 'req' | 'inv' | 'whk' | 'dlv' | 'msg';

export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32];
  return time + rand;
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${ulid(now)}`;
}

/** A pattern for path parameters, so a malformed id is a 400/404 before it reaches SQL. */
export const idPattern = (prefix: IdPrefix) => new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`);

/**
 * The ids of the demo data `npm start` seeds (scripts/demo-seed.mjs). The spec's examples use them,
 * so the docs page's "Try it" finds a row on the first click against a local server.
 */
export const demoId = (prefix: IdPrefix) => `${prefix}_${'0'.repeat(22)}DEM0`;
