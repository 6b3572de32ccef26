// ETags from a row's updated_at, which every update moves strictly forward
// (`updated_at = MAX(now, updated_at + 1)`), so it doubles as the row's version.

export const etagOf = (version: number): string => `"${version}"`;

/**
 * The version an If-Match header asks for: null when there is no precondition (absent or `*`),
 * -1 (matches nothing, so 412) when it names no strong ETag of ours.
 */
export function ifMatchVersion(header: string | undefined): number | null {
  if (header === undefined) return null;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return null;
  for (const tag of tags) {
    const m = /^"(\d{1,15})"$/.exec(tag);
    if (m) return Number(m[1]);
  }
  return -1;
}
