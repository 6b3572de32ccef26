import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setPlan } from '../helpers/fixtures';
import { asSearchPage, call, createMemory, d1Stats, expectProblem, world } from './helpers';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const search = (qs: string, token: string) => call(`/v1/memories/search?${qs}`, { token });
const ids = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  return asSearchPage(await res.json()).data.map((h) => h.id);
};

describe('search', () => {
  it('ranks by relevance, matches content and tags, ignores case and accents, and uses the list filters', async () => {
    const w = await world();
    const strong = await createMemory(w.tokens.owner, {
      content: 'pizza pizza pizza with friends',
      tags: ['food'],
      importance: 9,
    });
    const weak = await createMemory(w.tokens.owner, {
      content: 'we talked about many things, one of them was pizza and a long list of other topics',
      importance: 2,
    });
    const tagged = await createMemory(w.tokens.owner, { content: 'dinner plans', tags: ['Pizzeria'] });
    const t = w.tokens.owner;
    expect(await ids(await search('q=PIZZA', t))).toEqual([strong.id, weak.id]);
    expect(await ids(await search('q=pizzeria', t))).toEqual([tagged.id]);
    expect(await ids(await search('q=pizza&min_importance=5', t))).toEqual([strong.id]);
    expect(await ids(await search('q=pizza&tag=food', t))).toEqual([strong.id]);
    expect(await ids(await search('q=pizza friends&match=all', t))).toEqual([strong.id]);
    expect(await ids(await search('q=pizza friends', t))).toEqual([strong.id, weak.id]);
    expect(await ids(await search('q=pizza%20nothere&match=all', t))).toEqual([]);
    expect(await ids(await search('q=nothere%20either', t))).toEqual([]);
    const accents = await createMemory(w.tokens.owner, { content: 'Crème brûlée at the café' });
    expect(await ids(await search('q=creme%20brulee', t))).toEqual([accents.id]);
  });

  it('pages through hits in rank order, each once, in one round trip per page', async () => {
    const w = await world();
    await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: {
        memories: Array.from({ length: 23 }, (_, i) => ({ content: `needle ${'needle '.repeat(i % 5)} hay ${i}` })),
      },
    });
    const all: string[] = [];
    const scores: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await search(
        `q=needle&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        w.tokens.owner,
      );
      expect(d1Stats(res)).toMatchObject({ roundTrips: 1, rowsWritten: 0 });
      const page = asSearchPage(await res.json());
      all.push(...page.data.map((h) => h.id));
      scores.push(...page.data.map((h) => h.score));
      cursor = page.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(23);
    expect(new Set(all).size).toBe(23);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('a long query still pages: every next_cursor fits the declared 2,048 characters and is accepted', async () => {
    const w = await world();
    await call('/v1/memories/batch', {
      method: 'POST',
      token: w.tokens.owner,
      json: { memories: Array.from({ length: 7 }, (_, i) => ({ content: `needle ${i}` })) },
    });
    // 905 characters (within the 1,000 allowed), 2,705 bytes of UTF-8.
    const q = encodeURIComponent(`needle ${'日本'.repeat(449)}`);
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await search(
        `q=${q}&match=any&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        w.tokens.owner,
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const page = asSearchPage(await res.json());
      all.push(...page.data.map((h) => h.id));
      cursor = page.next_cursor;
    } while (cursor && ++pages < 10);
    expect(all).toHaveLength(7);
    expect(new Set(all).size).toBe(7);
  });

  it('the snippet is HTML-escaped and never cuts an emoji in half (no lone surrogate)', async () => {
    const w = await world();
    // 11 UTF-16 units, then emoji (2 each): the 200-unit window ends inside a surrogate pair.
    const m = await createMemory(w.tokens.owner, { content: `snipcut <b>${'😀'.repeat(200)}` });
    const hit = asSearchPage(await (await search('q=snipcut', w.tokens.owner)).json()).data.find((h) => h.id === m.id)!;
    expect(hit.snippet.startsWith('<mark>snipcut</mark> &#60;b&#62;😀')).toBe(true);
    expect(hit.snippet.endsWith('😀…')).toBe(true);
    expect(hit.snippet).not.toMatch(LONE_SURROGATE);
  });

  it('an fts syntax error quoting the term never cuts an emoji in half', async () => {
    const w = await world();
    const problem = await expectProblem(
      await search(`syntax=fts&q=${encodeURIComponent(`!${'😀'.repeat(30)}`)}`, w.tokens.owner),
      400,
      'invalid_query',
    );
    expect(problem.detail).toContain('!😀😀');
    // Neither a lone surrogate nor its JSON escape (what JSON.stringify makes of one) in the text.
    for (const text of [problem.detail, JSON.stringify(problem.errors)]) {
      expect(text).not.toMatch(LONE_SURROGATE);
      expect(text).not.toMatch(/\\ud[89a-f]/i);
    }
  });

  it('syntax=fts: AND / OR / NOT, phrases, prefixes, parentheses', async () => {
    const w = await world();
    const t = w.tokens.owner;
    const a = await createMemory(w.tokens.owner, { content: 'red apple pie' });
    const b = await createMemory(w.tokens.owner, { content: 'green apple juice' });
    const c = await createMemory(w.tokens.owner, { content: 'red cherry tart' });
    const q = async (expr: string) => (await ids(await search(`syntax=fts&q=${encodeURIComponent(expr)}`, t))).sort();
    const s = (...xs: { id: string }[]) => xs.map((x) => x.id).sort();
    expect(await q('apple AND red')).toEqual(s(a));
    expect(await q('apple red')).toEqual(s(a));
    expect(await q('apple OR cherry')).toEqual(s(a, b, c));
    expect(await q('apple NOT green')).toEqual(s(a));
    expect(await q('"apple pie"')).toEqual(s(a));
    expect(await q('"pie apple"')).toEqual([]);
    expect(await q('app*')).toEqual(s(a, b));
    expect(await q('(green OR cherry) AND NOT_A_WORD')).toEqual([]);
    expect(await q('(green OR cherry) NOT juice')).toEqual(s(c));
    const hit = asSearchPage(await (await search('syntax=fts&q=app*', t)).json()).data[0]!;
    expect(hit.snippet).toMatch(/<mark>apple<\/mark>/);
    for (const bad of ['(apple', 'apple)', 'NOT apple', 'apple AND', 'OR', '"open', '()', '🙂', 'a OR (b AND (c']) {
      await expectProblem(await search(`syntax=fts&q=${encodeURIComponent(bad)}`, t), 400, 'invalid_query');
    }
  });

  const NASTY = [
    '"',
    '""',
    '"unbalanced',
    'AND',
    'OR',
    'NOT',
    'a AND',
    'AND b',
    '*',
    'a*',
    '**',
    '-',
    '-a',
    'a -b',
    ':',
    'search_doc:foo',
    'content:foo',
    'memories_fts:foo',
    'NEAR(',
    'NEAR(a b)',
    'NEAR(a b, 2)',
    '(',
    ')',
    '((a)',
    'a))',
    '^a',
    '+a',
    '{a}',
    '[a]',
    "a'b",
    '\\',
    '\u0000',
    '🙂🙃',
    '👨‍👩‍👧‍👦 family',
    'ℌ𝔢𝔩𝔩𝔬',
    '日本語のテキスト',
    'ＡＮＤ',
    'rank',
    'bm25(memories_fts)',
    "'; DROP TABLE memories; --",
    'x'.repeat(1000),
    'a '.repeat(500),
  ];

  it('plain and fts queries with hostile input never fail with a 5xx', async () => {
    const w = await world();
    await createMemory(w.tokens.owner, { content: 'a normal memory about search_doc and NEAR things 🙂' });
    for (const q of [...NASTY, 'x'.repeat(10 * 1024)]) {
      for (const syntax of ['plain', 'fts']) {
        const res = await search(`syntax=${syntax}&q=${encodeURIComponent(q)}`, w.tokens.owner);
        expect([200, 400], `${syntax}: ${JSON.stringify(q.slice(0, 40))} → ${res.status}`).toContain(res.status);
        if (res.status === 200) asSearchPage(await res.json());
        if (syntax === 'plain' && q.length <= 1000) expect(res.status, q).toBe(200);
      }
    }
  });

  it('generated queries never fail with a 5xx', async () => {
    const w = await world();
    await setPlan(w.a.tenant.id, 'team'); // 150 searches in a few seconds: above the free plan's rate limit
    await createMemory(w.tokens.owner, { content: 'alpha beta gamma delta' });
    const token = fc.oneof(
      fc.constantFrom(
        'AND',
        'OR',
        'NOT',
        'NEAR',
        '(',
        ')',
        '"',
        '*',
        '-',
        ':',
        '^',
        'alpha',
        'beta',
        'search_doc',
        '🙂',
        ' ',
      ),
      fc.string({ maxLength: 8, unit: 'grapheme' }),
    );
    const query = fc.array(token, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(' '));
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('plain', 'fts'), async (q, syntax) => {
        const res = await search(`syntax=${syntax}&q=${encodeURIComponent(q)}`, w.tokens.owner);
        expect([200, 400]).toContain(res.status);
        if (syntax === 'plain' && q.length >= 1 && q.length <= 1000) expect(res.status).toBe(200);
      }),
      { numRuns: 150 },
    );
    // Each query compiles a statement with one BM25 term per word; on a busy 2-core runner 150 take longer than 5 s.
  }, 30_000);

  it('a question of 64 distinct words (the most searched) is answered on every path, with and without a subject filter', async () => {
    // D1 refuses an expression tree deeper than 100: the terms' sum and the windows' OR are balanced.
    const w = await world();
    const words = Array.from({ length: 64 }, (_, i) => `w${i}x`);
    const m = await createMemory(w.tokens.owner, { content: words.join(' '), subject_id: 'alice' });
    const q = encodeURIComponent(words.join(' '));
    expect(await ids(await search(`q=${q}`, w.tokens.owner))).toEqual([m.id]);
    expect(await ids(await search(`q=${q}&subject_id=alice`, w.tokens.owner))).toEqual([m.id]);
    expect(await ids(await search(`q=${q}&match=all`, w.tokens.owner))).toEqual([m.id]);
    const post = await call('/v1/memories/search', {
      method: 'POST',
      token: w.tokens.owner,
      json: { query: words.join(' '), filter: { subject_id: ['alice'] } },
    });
    expect(post.status, await post.clone().text()).toBe(200);
    expect(((await post.json()) as { data: { memory: { id: string } }[] }).data.map((h) => h.memory.id)).toEqual([
      m.id,
    ]);
  });
});
