import type { AuthContext } from './auth/middleware';
import type { CallerRow } from './db/caller';
import type { D1Stats } from './db/instrument';
import type { RateLimiter } from './durable/rate-limiter';
import type { WebhookDispatcher } from './durable/webhook-dispatcher';
import type { VectorizeIndexLike } from './vectors/vectorize';

/** Bindings and vars the Worker reads (wrangler.toml, .dev.vars, test config). */
export interface Env {
  /** The directory; without SHARD_ bindings also the only shard (src/db/directory.ts). */
  DB: D1Database;
  /** Tenant shards SHARD_0…SHARD_{N-1}, when the deployment has more than one database. */
  [shard: `SHARD_${number}`]: D1Database | undefined;
  ASSETS?: Fetcher;
  AUTH0_DOMAIN?: string;
  AUTH0_AUDIENCE?: string;
  AUTH0_ISSUER?: string;
  AUTH0_JWKS_URL?: string;
  /** Inline JWKS JSON: local development and tests trust their own key through this. */
  AUTH0_JWKS?: string;
  /** HMAC key that signs pagination cursors. */
  CURSOR_SECRET?: string;
  /** Per-tenant request counters (src/middleware/rate-limit.ts); absent = no rate limiting. */
  RATE_LIMITER?: DurableObjectNamespace<RateLimiter>;
  /** Per-tenant webhook delivery (src/durable/webhook-dispatcher.ts); absent = no deliveries. */
  WEBHOOK_DISPATCHER?: DurableObjectNamespace<WebhookDispatcher>;
  /** Comma-separated hosts exempt from the webhook URL rules (https, no private addresses); empty by default. */
  WEBHOOK_ALLOWED_HOSTS?: string;
  /** Comma-separated origins allowed to call the API from a browser; empty = CORS off. */
  CORS_ORIGINS?: string;
  /** Minutes of inactivity after which an MCP session expires (default 60). */
  SESSION_IDLE_TIMEOUT_MINUTES?: string;
  /** Workers AI: embeds search queries when the tenant's embedding model is a Workers AI model (`@cf/…`). */
  AI?: { run(model: string, input: { text: string[] }): Promise<unknown> };
  /** Cloudflare Vectorize index (cosine metric): the production vector engine; absent = the embedded d1 engine. */
  VECTORIZE?: VectorizeIndexLike;
  /** The Vectorize index's dimensions: every tenant's embedding dimensions must equal them. */
  VECTORIZE_DIMENSIONS?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    auth: AuthContext;
    /** Set by runAsCaller once the request's batch has resolved the caller. */
    caller?: CallerRow;
    /** The directory and every shard by name, for work that spans them (src/db/shard-router.ts). */
    databases: Env;
    /** The shard the request's caller lives on (src/db/shard-router.ts). */
    shard?: string;
    /** This request's D1 cost so far (src/db/instrument.ts). */
    d1: D1Stats;
    /** CSP nonce of the docs page's inline script (src/middleware/security-headers.ts). */
    cspNonce?: string;
  };
}
