import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';

export const sessions = new OpenAPIHono<AppEnv>();
