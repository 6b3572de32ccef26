import { authConfig } from '../../auth/verify';
import type { Env } from '../../env';
import { CURSOR_SECRET_MIN_LENGTH } from '../../lib/cursor';
import { ApiError } from '../../lib/problem';

/** A required setting that is missing or invalid: its name and why, never its value. */
export interface SettingProblem {
  setting: string;
  problem: string;
}

/**
 * Every setting and binding the API needs, checked the way the code that uses it checks it (the
 * auth rules are authConfig's own). GET /health and `npm run deploy` both report this list.
 */
export function settingProblems(env: Partial<Env>): SettingProblem[] {
  const problems: SettingProblem[] = [];
  try {
    authConfig(env as Env);
  } catch (err) {
    const detail = err instanceof ApiError ? err.detail : 'invalid';
    problems.push({ setting: /\bAUTH0_[A-Z_]+/.exec(detail)?.[0] ?? 'AUTH0_DOMAIN', problem: detail });
  }
  const cursor = env.CURSOR_SECRET;
  if (!cursor || cursor.length < CURSOR_SECRET_MIN_LENGTH) {
    problems.push({
      setting: 'CURSOR_SECRET',
      problem: cursor
        ? `CURSOR_SECRET is shorter than ${CURSOR_SECRET_MIN_LENGTH} characters: pagination cursors cannot be signed.`
        : 'CURSOR_SECRET is not set: pagination cursors cannot be signed (page 2 of every list fails).',
    });
  }
  if (!env.RATE_LIMITER) {
    problems.push({ setting: 'RATE_LIMITER', problem: 'The RATE_LIMITER binding is missing: rate limiting is off.' });
  }
  return problems;
}
