// One ETag form across the API: `"<resource id>-v<version>"`. Memories use their version column;
// users their updated_at, which every update moves strictly forward (MAX(now, updated_at + 1)).

/** Strong ETag of a resource version. */
export const etagOf = (row: { id: string; version: number }) => `"${row.id}-v${row.version}"`;

/**
 * If-Match → the versions the client accepts for resource `id`; undefined when absent or `*`.
 * An ETag of another resource or a malformed one accepts no version (→ 412 if the resource exists).
 */
export function acceptedVersions(header: string | undefined, id: string): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const part of header.split(',')) {
    const m = /^\s*(?:W\/)?"([^"]*)-v(\d{1,15})"\s*$/.exec(part);
    if (m && m[1] === id) versions.push(Number(m[2]));
  }
  return versions;
}
