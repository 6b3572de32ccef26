import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { bulkRoutes } from './bulk';
import { changeRoutes } from './change';
import { readRoutes } from './read';
import { recallRoutes } from './recall';
import { versionRoutes } from './versions';
import { writeRoutes } from './write';

// Order matters: /v1/memories/search and /batch before /v1/memories/{id}.
export const memories = new OpenAPIHono<AppEnv>();
memories.route('/', writeRoutes);
memories.route('/', bulkRoutes);
memories.route('/', readRoutes);
memories.route('/', recallRoutes);
memories.route('/', versionRoutes);
memories.route('/', changeRoutes);
