// Search text → FTS5 MATCH expression, and the snippet shown with each hit.
// Plain text (the default) is never FTS5 syntax: every token becomes a quoted, tenant-prefixed
// term (lib/search-text.ts plainFtsQuery). `syntax=fts` accepts a small, validated grammar and
// re-serialises it, so the string handed to FTS5 only ever holds quoted tenant-prefixed terms,
// AND/OR/NOT, parentheses and a trailing prefix '*': no column filters, NEAR or ^ reach FTS5.
import { type KeywordQuery, tenantKey, tokenize } from './search-text';

export class SearchSyntaxError extends Error {}

const MAX_TERMS = 64;
const MAX_DEPTH = 16;

type Lexeme =
  | { kind: '(' | ')' | 'AND' | 'OR' | 'NOT' }
  | { kind: 'term'; tokens: string[]; prefix: boolean; text: string };

function lex(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      out.push({ kind: ch });
      i++;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new SearchSyntaxError('A quoted phrase is not closed.');
      const phrase = text.slice(i + 1, end);
      const prefix = text[end + 1] === '*';
      out.push({ kind: 'term', tokens: tokenize(phrase), prefix, text: `"${phrase}"` });
      i = end + (prefix ? 2 : 1);
    } else {
      let j = i;
      while (j < text.length && !/[\s()"]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      i = j;
      if (word === 'AND' || word === 'OR' || word === 'NOT') {
        out.push({ kind: word });
        continue;
      }
      const prefix = word.endsWith('*');
      out.push({ kind: 'term', tokens: tokenize(word.replace(/\*+$/, '')), prefix, text: word });
    }
  }
  return out;
}

/**
 * Parses the `syntax=fts` subset: terms, "quoted phrases", prefix*, AND / OR / NOT (upper case),
 * parentheses; adjacent terms are ANDed. Precedence as in FTS5: NOT > AND > OR.
 * Returns the FTS5 expression with tenant-prefixed terms and the plain tokens (for snippets).
 */
export function ftsSyntaxQuery(
  tenantId: string,
  text: string,
): { match: string; tokens: string[]; prefixes: string[] } {
  const key = tenantKey(tenantId);
  const lexemes = lex(text);
  const tokens: string[] = [];
  const prefixes: string[] = [];
  let pos = 0;
  let terms = 0;
  const peek = () => lexemes[pos];
  const fail = (msg: string): never => {
    throw new SearchSyntaxError(msg);
  };

  const primary = (depth: number): string => {
    const lx = lexemes[pos++];
    if (!lx) return fail('The query ends where a term was expected.');
    if (lx.kind === '(') {
      if (depth >= MAX_DEPTH) fail(`Parentheses nest deeper than ${MAX_DEPTH} levels.`);
      const inner = or(depth + 1);
      if (lexemes[pos++]?.kind !== ')') fail('A parenthesis is not closed.');
      return `(${inner})`;
    }
    if (lx.kind !== 'term') return fail(`${lx.kind === ')' ? 'A closing parenthesis' : lx.kind} is not allowed here.`);
    if (lx.tokens.length === 0)
      fail(`The term ${JSON.stringify(Array.from(lx.text).slice(0, 40).join(''))} has no letters or digits.`);
    if ((terms += lx.tokens.length) > MAX_TERMS) fail(`The query has more than ${MAX_TERMS} terms.`);
    tokens.push(...lx.tokens);
    if (lx.prefix) prefixes.push(lx.tokens.at(-1)!);
    return `"${lx.tokens.map((t) => key + t).join(' ')}"${lx.prefix ? ' *' : ''}`;
  };
  const not = (depth: number): string => {
    let left = primary(depth);
    while (peek()?.kind === 'NOT') {
      pos++;
      left = `${left} NOT ${primary(depth)}`;
    }
    return left;
  };
  const and = (depth: number): string => {
    const parts = [not(depth)];
    for (;;) {
      const next = peek();
      if (next?.kind === 'AND') pos++;
      else if (!next || next.kind === 'OR' || next.kind === ')') break;
      else if (next.kind === 'NOT') fail('NOT needs a term on its left.');
      parts.push(not(depth));
    }
    return parts.length > 1 ? `(${parts.join(' AND ')})` : parts[0]!;
  };
  const or = (depth: number): string => {
    const parts = [and(depth)];
    while (peek()?.kind === 'OR') {
      pos++;
      parts.push(and(depth));
    }
    return parts.length > 1 ? `(${parts.join(' OR ')})` : parts[0]!;
  };

  if (lexemes.length === 0) fail('The query has no terms.');
  const match = or(0);
  if (pos < lexemes.length) fail('A closing parenthesis has no opening one.');
  return { match, tokens, prefixes };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export const SNIPPET_CHARS = 200;

/**
 * A short, HTML-escaped excerpt of `content` around the first matched term, with every matched
 * word wrapped in <mark>…</mark>. Words are compared after the same normalisation as the index
 * (case and diacritics folded); `prefixes` match any word that starts with them.
 */
export function snippet(content: string, tokens: readonly string[], prefixes: readonly string[] = []): string {
  const exact = new Set(tokens);
  const isHit = (word: string) => tokenize(word).some((t) => exact.has(t) || prefixes.some((p) => t.startsWith(p)));
  const words = [...content.matchAll(/[\p{L}\p{N}\p{M}]+/gu)];
  const first = words.find((w) => isHit(w[0]));
  let start = first ? Math.max(0, first.index - 60) : 0;
  // Start on a word boundary.
  if (start > 0) start = words.find((w) => w.index >= start)?.index ?? start;
  let end = Math.min(content.length, start + SNIPPET_CHARS);
  // Never end between the two halves of a surrogate pair (a lone surrogate is not valid UTF-8).
  if (end < content.length && /[\ud800-\udbff]/.test(content[end - 1]!)) end--;
  let out = start > 0 ? '…' : '';
  let at = start;
  for (const w of words) {
    if (w.index < start || w.index + w[0].length > end) continue;
    out += escapeHtml(content.slice(at, w.index));
    out += isHit(w[0]) ? `<mark>${escapeHtml(w[0])}</mark>` : escapeHtml(w[0]);
    at = w.index + w[0].length;
  }
  out += escapeHtml(content.slice(at, end));
  return end < content.length ? `${out}…` : out;
}

/** A `syntax=fts` query as a keyword query: one candidate window (the whole expression), scored on its words. */
export function ftsKeywordQuery(tenantId: string, text: string): KeywordQuery {
  const key = tenantKey(tenantId);
  const { match, tokens, prefixes } = ftsSyntaxQuery(tenantId, text);
  return { windows: [match], terms: [...new Set(tokens)].map((t) => key + t), key, tokens, prefixes };
}
