/** Timestamps are epoch ms in D1 and RFC 3339 strings in the API. */
export function toIso(ms: number): string;
export function toIso(ms: number | null): string | null;
export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Parses an RFC 3339 timestamp to epoch ms, or undefined when it is not one. */
export function fromIso(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The UTC calendar day (YYYY-MM-DD) of an epoch-ms instant. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
