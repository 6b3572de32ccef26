import { createApp } from './app';
import type { Env } from './env';
import { scheduled } from './scheduled';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;

// Durable Object classes must be exported by the Worker's main module.
export { RateLimiter } from './durable/rate-limiter';
export { WebhookDispatcher } from './durable/webhook-dispatcher';
export { app };
