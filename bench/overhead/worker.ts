// The Worker under `npm run bench:overhead`: Memoria itself plus one bare Hono route doing the
// same single D1 SELECT as GET /v1/memories/{id}, in the same isolate, against the same D1.
// Never deployed (wrangler dev takes it as the entry point for the bench only).
import { Hono } from 'hono';
import type { Env } from '../../src/env';
import memoria from '../../src/index';

export { RateLimiter } from '../../src/durable/rate-limiter';

const bare = new Hono<{ Bindings: Env }>();
bare.get('/bare/memories/:id', async (c) => {
  const row = await c.env.DB.prepare('SELECT * FROM memories WHERE id = ?1 AND deleted_at IS NULL')
    .bind(c.req.param('id'))
    .first();
  return row ? c.json(row) : c.json({ error: 'not found' }, 404);
});
bare.all('*', (c) => memoria.fetch(c.req.raw, c.env, c.executionCtx));

export default { fetch: bare.fetch, scheduled: memoria.scheduled } satisfies ExportedHandler<Env>;
