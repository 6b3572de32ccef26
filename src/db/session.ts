// Read replication (D1 Sessions API). Each request runs on one D1 session, and each response
// carries the session's bookmark; a request that sends that bookmark back is served by a replica
// at least as new as it, so a client that echoes Memoria-Bookmark reads its own writes.
// Writes always run on the primary, where each batch re-checks the caller (src/db/caller.ts).

export const BOOKMARK_HEADER = 'Memoria-Bookmark';

// D1's bookmark format (four hex groups); anything else is ignored, which gives the strongest
// reading (the primary) rather than an error.
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * The request's session: from the client's bookmark when it sent one; otherwise the primary for
 * the API (the same reads as without replication), any replica for unauthenticated routes.
 */
export function requestSession(db: D1Database, bookmark: string | undefined, authenticated: boolean) {
  // An MCP tool call is an inner request of the app (src/mcp/dispatch.ts): it runs on the outer
  // request's session, which has no withSession of its own.
  if (typeof db.withSession !== 'function') return db;
  if (bookmark && BOOKMARK.test(bookmark)) return db.withSession(bookmark);
  return db.withSession(authenticated ? 'first-primary' : 'first-unconstrained');
}
