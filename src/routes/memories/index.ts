import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { changeRoutes } from './change';
import { readRoutes } from './read';
import { recallRoutes } from './recall';
import { writeRoutes } from './write';

// Order matters: /v1/memories/search and /batch before /v1/memories/{id}.
export const memories = new OpenAPIHono<AppEnv>();
memories.route('/', writeRoutes);
memories.route('/', readRoutes);
memories.route('/', recallRoutes);
memories.route('/', changeRoutes);
