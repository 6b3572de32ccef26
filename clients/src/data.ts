// Export as a stream of typed lines, and import in chunks the API accepts, resuming after a
// failed chunk. A re-sent chunk is harmless: the API maps ids deterministically and skips rows
// it already wrote (reported as `skipped.existing`).
import { MemoriaError } from './errors.js';
import type { components } from './schema.js';
import { backoffMs } from './transport.js';

export type ExportLine = components['schemas']['ExportLine'];
export type ImportReport = components['schemas']['ImportReport'];

/** The API's limits for one import request: 10,000 lines and a 4 MiB body. */
export const IMPORT_CHUNK_MAX_LINES = 10_000;
export const IMPORT_CHUNK_MAX_BYTES = 4 * 1024 * 1024;

/** Parses an NDJSON byte stream line by line, as it arrives. */
export async function* ndjsonLines<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffered.split('\n');
      buffered = done ? '' : lines.pop()!;
      for (const line of lines) if (line.trim()) yield JSON.parse(line) as T;
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/** What `import` accepts: NDJSON text, or lines (text or objects, e.g. `client.tenant.export()`). */
export type ImportSource = string | Iterable<string | ExportLine> | AsyncIterable<string | ExportLine>;

export interface ImportOptions {
  /** Validate only: every chunk answers its report and errors, nothing is written. */
  dryRun?: boolean | undefined;
  /** Lines per request (default and maximum 10,000). */
  maxChunkLines?: number | undefined;
  /** Bytes per request (default and maximum 4 MiB). */
  maxChunkBytes?: number | undefined;
  /** Skip this many non-empty lines first: resume with `error.linesImported` of an ImportError. */
  skipLines?: number | undefined;
  /** Extra attempts for a chunk that failed without an answer or with 429/5xx (default 3). */
  chunkRetries?: number | undefined;
  /** Called after each chunk the API accepted. */
  onChunk?: ((report: ImportReport, linesImported: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImportResult {
  /** Non-empty lines sent and accepted (skipped ones not included). */
  lines: number;
  /** One report per chunk, in order. */
  chunks: ImportReport[];
}

/** An import that stopped at a chunk: the lines before it are in; resume with `skipLines`. */
export class ImportError extends MemoriaError {
  /** Non-empty lines of the source accepted before the failed chunk (skipped lines included). */
  readonly linesImported: number;
  readonly chunks: ImportReport[];

  constructor(cause: MemoriaError, linesImported: number, chunks: ImportReport[]) {
    super({ ...cause, cause, errors: [...cause.errors] });
    this.linesImported = linesImported;
    this.chunks = chunks;
  }
}

async function* textLines(source: ImportSource): AsyncGenerator<string> {
  if (typeof source === 'string') {
    for (const line of source.split('\n')) if (line.trim()) yield line;
    return;
  }
  for await (const line of source) {
    const text = typeof line === 'string' ? line : JSON.stringify(line);
    if (text.trim()) yield text;
  }
}

/** Groups lines into chunks within the line and byte limits. */
async function* chunksOf(lines: AsyncIterable<string>, maxLines: number, maxBytes: number) {
  const encoder = new TextEncoder();
  let chunk: string[] = [];
  let bytes = 0;
  for await (const line of lines) {
    const size = encoder.encode(line).length + 1;
    if (size > maxBytes)
      throw new RangeError(`An import line of ${size} bytes exceeds the ${maxBytes}-byte chunk limit.`);
    if (chunk.length >= maxLines || bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(line);
    bytes += size;
  }
  if (chunk.length) yield chunk;
}

// No answer (network_error, timeout: status 0), rate limited, or the server failed: worth a resend.
const transient = (err: MemoriaError) => err.status === 0 || err.status === 429 || err.status >= 500;

/** Sends `source` chunk by chunk through `send` (one POST /v1/import per chunk). */
export async function importChunks(
  source: ImportSource,
  send: (ndjson: string, signal: AbortSignal | undefined) => Promise<ImportReport>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const maxLines = Math.min(options.maxChunkLines ?? IMPORT_CHUNK_MAX_LINES, IMPORT_CHUNK_MAX_LINES);
  const maxBytes = Math.min(options.maxChunkBytes ?? IMPORT_CHUNK_MAX_BYTES, IMPORT_CHUNK_MAX_BYTES);
  const retries = options.chunkRetries ?? 3;
  const skip = options.skipLines ?? 0;
  const chunks: ImportReport[] = [];
  async function* remaining() {
    let seen = 0;
    for await (const line of textLines(source)) if (seen++ >= skip) yield line;
  }
  let sent = 0;
  let accepted = skip;
  for await (const chunk of chunksOf(remaining(), maxLines, maxBytes)) {
    for (let attempt = 0; ; attempt++) {
      try {
        const report = await send(`${chunk.join('\n')}\n`, options.signal);
        chunks.push(report);
        accepted += chunk.length;
        sent += chunk.length;
        options.onChunk?.(report, accepted);
        break;
      } catch (err) {
        if (!(err instanceof MemoriaError)) throw err;
        if (attempt >= retries || !transient(err)) throw new ImportError(err, accepted, chunks);
        const wait = err.retryAfter !== null ? err.retryAfter * 1000 : backoffMs(attempt, 500, 20_000);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
  return { lines: sent, chunks };
}
