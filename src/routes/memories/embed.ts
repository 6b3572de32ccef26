// Server-side embedding through the Workers AI binding (AI): search queries, and memories written
// without `embedding` when the tenant's model is a Workers AI model. Workers AI cannot run
// locally: tests use a fake that enforces the models' documented shape and limits
// (test/helpers/fakes.ts).
import type { Env } from '../../env';
import { ApiError } from '../../lib/problem';

/** Workers AI model names start with `@cf/` (for example `@cf/baai/bge-small-en-v1.5`, 384 dimensions). */
export const isWorkersAiModel = (model: string | null): model is string => model?.startsWith('@cf/') ?? false;

/** Texts per Workers AI embedding call (the bge models take at most 100). */
export const EMBED_BATCH_MAX = 100;

/**
 * The bge models read at most 512 tokens. A text is cut after this many words and punctuation
 * marks (each at least one model token), which leaves room for words the model splits in two.
 */
export const EMBED_TEXT_MAX_WORDS = 256;

/** `text` cut after EMBED_TEXT_MAX_WORDS words or punctuation marks. */
export function embeddableText(text: string): string {
  let n = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)) {
    if (++n > EMBED_TEXT_MAX_WORDS) return text.slice(0, m.index);
  }
  return text;
}

/** The tenant embeds memories and queries on the server: its model is a Workers AI model with dimensions set. */
export const embedsOnServer = (model: string | null, dimensions: number | null) =>
  isWorkersAiModel(model) && dimensions !== null;

/** Asked to embed on the server, but this deployment has no Workers AI binding. */
const unavailable = (what: string) =>
  new ApiError(
    'embedding_unavailable',
    `The tenant's embedding model is a Workers AI model, but this server has no Workers AI binding (AI) to embed ${what}. ` +
      'Send `embedding` with each memory, or set a model that is not a Workers AI one with PATCH /v1/tenant.',
  );

/**
 * One vector per text from the tenant's Workers AI model, in one call per EMBED_BATCH_MAX texts:
 * 503 without the binding, 502 when the model answers anything else than one vector of the
 * tenant's dimensions per text.
 */
export async function embedTexts(
  ai: Env['AI'],
  model: string,
  dimensions: number,
  texts: string[],
): Promise<number[][]> {
  if (!ai) throw unavailable('memories');
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH_MAX) {
    const chunk = texts.slice(i, i + EMBED_BATCH_MAX).map(embeddableText);
    const answer = (await ai.run(model, { text: chunk })) as { data?: unknown };
    const data = Array.isArray(answer?.data) ? (answer.data as unknown[]) : [];
    const valid =
      data.length === chunk.length &&
      data.every((v) => Array.isArray(v) && v.length === dimensions && v.every((x) => Number.isFinite(x)));
    if (!valid)
      throw new ApiError(
        'embedding_failed',
        `Workers AI model ${model} did not return ${chunk.length} vector(s) of the tenant's ${dimensions} dimensions.`,
      );
    out.push(...(data as number[][]));
  }
  return out;
}

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
  const refused = (why: string) =>
    new ApiError('vector_required', `${why}: send \`vector\` with the request.`, {
      errors: [{ path: 'json.vector', message: why }],
    });
  if (!ai) throw refused('this server has no Workers AI binding (AI) to embed the query');
  if (!embedsOnServer(model, dimensions))
    throw refused(
      `the tenant's embedding model (${model ?? 'none'}) is not a Workers AI model (@cf/…) with dimensions set in PATCH /v1/tenant`,
    );
  return (await embedTexts(ai, model!, dimensions!, [text]))[0]!;
}
