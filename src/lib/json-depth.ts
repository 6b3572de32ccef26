/**
 * Whether a parsed JSON value nests more than `max` levels of arrays/objects (`{}` is 1 level).
 * Stops descending past `max`, so however deep the value is, this never overflows the stack.
 */
export function nestsDeeperThan(value: unknown, max: number, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth + 1 > max) return true;
  for (const v of Object.values(value)) if (nestsDeeperThan(v, max, depth + 1)) return true;
  return false;
}
