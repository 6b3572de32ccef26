import type { AuthContext } from './auth/middleware';

/** Bindings and vars the Worker reads (wrangler.toml, .dev.vars, test config). */
export interface Env {
  DB: D1Database;
  ASSETS?: Fetcher;
  AUTH0_DOMAIN?: string;
  AUTH0_AUDIENCE?: string;
  AUTH0_ISSUER?: string;
  AUTH0_JWKS_URL?: string;
  /** Inline JWKS JSON: local development and tests trust their own key through this. */
  AUTH0_JWKS?: string;
  /** HMAC key that signs pagination cursors. */
  CURSOR_SECRET?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    auth: AuthContext;
  };
}
