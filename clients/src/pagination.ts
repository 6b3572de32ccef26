/** A page as every list endpoint returns it. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Every item of every page, fetched lazily, page by page, as the caller iterates. */
export interface Paginated<T> extends AsyncIterable<T> {
  /** The pages themselves (e.g. to show progress or keep a cursor). */
  pages(): AsyncIterable<Page<T>>;
  /** Collects every item into an array (mind the size of what you list). */
  toArray(): Promise<T[]>;
}

/**
 * Walks a cursor-paginated list: `fetchPage(undefined)` first, then `fetchPage(next_cursor)`
 * until `next_cursor` is null. Works for any list endpoint (see `client.paginate`).
 */
export function paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Paginated<T> {
  async function* pages(): AsyncGenerator<Page<T>> {
    let cursor: string | undefined;
    do {
      const page = await fetchPage(cursor);
      yield page;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }
  async function* items(): AsyncGenerator<T> {
    for await (const page of pages()) yield* page.data;
  }
  return {
    [Symbol.asyncIterator]: items,
    pages,
    async toArray() {
      const all: T[] = [];
      for await (const item of items()) all.push(item);
      return all;
    },
  };
}
