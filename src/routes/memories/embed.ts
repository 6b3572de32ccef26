// Server-side embedding of search queries through the Workers AI binding (AI). Workers AI cannot
// run locally: tests use a fake that returns the documented output, { shape: [n, dims], data }.
import type { Env } from '../../env';
import { ApiError } from '../../lib/problem';

/** Workers AI model names start with `@cf/` (for example `@cf/baai/bge-small-en-v1.5`, 384 dimensions). */
export const isWorkersAiModel = (model: string | null): model is string => model?.startsWith('@cf/') ?? false;

/**
 * The query's vector from the tenant's model: 422 when no vector can be made here (no AI binding,
 * or a model that is not a Workers AI one), 502 when the model answers something else than one
 * vector of the tenant's dimensions.
 */
export async function embedQuery(
  ai: Env['AI'],
  model: string | null,
  dimensions: number | null,
  text: string,
): Promise<number[]> {
  const unavailable = (why: string) =>
    new ApiError('vector_required', `${why}: send \`vector\` with the request.`, {
      errors: [{ path: 'json.vector', message: why }],
    });
  if (!ai) throw unavailable('this server has no Workers AI binding (AI) to embed the query');
  if (!isWorkersAiModel(model) || dimensions === null)
    throw unavailable(
      `the tenant's embedding model (${model ?? 'none'}) is not a Workers AI model (@cf/…) with dimensions set in PATCH /v1/tenant`,
    );
  const out = (await ai.run(model, { text: [text] })) as { data?: unknown };
  const vector = Array.isArray(out?.data) ? (out.data[0] as unknown) : undefined;
  if (!Array.isArray(vector) || vector.length !== dimensions || !vector.every((x) => Number.isFinite(x)))
    throw new ApiError(
      'embedding_failed',
      `Workers AI model ${model} did not return one vector of the tenant's ${dimensions} dimensions.`,
    );
  return vector as number[];
}
