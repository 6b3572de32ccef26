/** Request limits, in one place; route schemas and middleware read them and the spec documents them. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const PAGE_LIMIT_MAX = 100;
export const PAGE_LIMIT_DEFAULT = 20;

/** Memories (issue 4). The route schemas read these, so the spec documents them. */
export const MEMORY_CONTENT_MAX = 32_768;
export const MEMORY_TAGS_MAX = 50;
export const MEMORY_TAG_MAX_CHARS = 64;
/** Serialized JSON size of `metadata`, in UTF-8 bytes. */
export const MEMORY_METADATA_MAX_BYTES = 16 * 1024;
export const MEMORY_METADATA_KEY_MAX = 64;
export const MEMORY_EMBEDDING_MAX_DIMENSIONS = 4096;
export const EMBEDDING_DIMENSIONS_MIN = 2;
export const MEMORY_SOURCE_MAX = 200;
export const MEMORY_BATCH_MAX = 100;
/** subject_id and agent_id: 1–128 printable characters. */
export const MEMORY_LABEL_MAX = 128;
/** expires_at / ttl_seconds: at most this far ahead (10 years). */
export const MEMORY_TTL_MAX_SECONDS = 10 * 366 * 24 * 3600;
/** Bulk delete: memories per call (the caller repeats while `remaining`). */
export const BULK_DELETE_MAX = 1_000;
/** Search text (`q`), in characters; longer is a 400. */
export const SEARCH_QUERY_MAX = 1_000;
/** Filters that take several values (`tag`, `any_tag`, `metadata.<key>`): at most this many each. */
export const FILTER_VALUES_MAX = 20;
/** Idempotency-Key: 1–255 visible ASCII characters; a stored response is replayed for 24 h. */
export const IDEMPOTENCY_KEY_MAX = 255;
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** Rate limits are per tenant, per fixed window of this many seconds (quota: PLANS[plan].requestsPerMinute). */
export const RATE_LIMIT_WINDOW_SECONDS = 60;
/** Requests per window for a valid token whose subject is no user yet (each costs a D1 lookup): enough to sign up. */
export const UNPROVISIONED_REQUESTS_PER_MINUTE = 30;
/**
 * Requests per window from one client IP (CF-Connecting-IP) that no user makes: no or an invalid
 * token, or a subject that is no user yet. Shared by everyone behind that address.
 */
export const ANONYMOUS_REQUESTS_PER_MINUTE_PER_IP = 60;

/** A soft-deleted tenant can be restored for this long; then the cron purges it with all its data. */
export const TENANT_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** How long an invitation can be accepted. */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** Sessions idle longer than this are expired (by the cron, or at once by a late heartbeat). */
export const SESSION_IDLE_TIMEOUT_MINUTES_DEFAULT = 60;
/** metadata of a session, as JSON text. */
export const SESSION_METADATA_MAX_BYTES = 16 * 1024;
/** Nesting of memory and session metadata: SQLite's JSON functions refuse ~1,000 levels, which would fail the json_valid CHECK as a 500. */
export const METADATA_MAX_DEPTH = 20;

/** The idle timeout from the SESSION_IDLE_TIMEOUT_MINUTES var (1 min – 7 days), else the default. */
export function sessionIdleTimeoutMs(configured: string | undefined): number {
  const minutes = Number(configured);
  const valid = Number.isInteger(minutes) && minutes >= 1 && minutes <= 7 * 24 * 60;
  return (valid ? minutes : SESSION_IDLE_TIMEOUT_MINUTES_DEFAULT) * 60_000;
}

/**
 * The maintenance cron works in chunks of at most this many rows per statement, and stops after
 * this many D1 queries per run (the free plan allows 50 per invocation); the next run continues.
 */
export const MAINTENANCE_CHUNK_ROWS = 1000;
export const MAINTENANCE_QUERY_BUDGET = 40;

/** Export pages: at most this many rows, cut earlier once they pass this many (estimated) bytes. */
export const EXPORT_PAGE_ROWS = 2000;
export const EXPORT_PAGE_BYTES = 8 * 1024 * 1024;
/** Import chunk: one request body (≤ MAX_BODY_BYTES) of at most this many lines, written all-or-nothing. */
export const IMPORT_MAX_LINES = 10_000;
/**
 * Nesting of one import line. Every line the export writes stays far below it (metadata is capped
 * at 20 levels); deeper JSON could not be stored anyway (SQLite's JSON functions stop at 1,000).
 */
export const IMPORT_MAX_JSON_DEPTH = 64;
/** A memory's version is served as an int32; a change that would pass it is refused (409 version_exhausted). */
export const MEMORY_VERSION_MAX = 2 ** 31 - 1;

/** GET /v1/usage returns at most this many days per request. */
export const USAGE_MAX_DAYS = 366;
/** Usage counters gathered in an isolate are written to D1 at most once per this interval. */
export const USAGE_FLUSH_INTERVAL_MS = 30_000;

/**
 * Keyword search ranks at most this many candidates: the newest matches of the query, split
 * between its words (each word of an any-word query gets its share). Bounds rows read per search
 * whatever the tenant's size; older matches of a very common word fall outside it.
 */
export const KEYWORD_WINDOW = 1_500;

/**
 * Vectors a tenant may store with the embedded d1 engine (exact search reads every one of them
 * on each semantic query: see bench/RESULTS.md). Past it, a write with a vector is refused; the
 * Vectorize engine has no such bound.
 */
export const D1_VECTOR_MAX = 10_000;
/** Semantic and hybrid search: at most this many hits (`top_k`). */
export const SEARCH_TOP_K_MAX = 100;

/** The change feed keeps changes this long; a cursor older than that is a 410 (re-sync by export). */
export const CHANGE_FEED_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Webhook delivery attempts are kept this long (GET /v1/webhooks/{id}/deliveries), then pruned by the cron. */
export const WEBHOOK_DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** Endpoints per tenant: each one is a delivery stream the tenant's dispatcher serves. */
export const WEBHOOK_ENDPOINTS_MAX = 20;
/** How long the previous secret still signs after POST /v1/webhooks/{id}/rotate-secret. */
export const WEBHOOK_SECRET_GRACE_MS = 24 * 3600 * 1000;
