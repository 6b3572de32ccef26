import { env, runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import type { RateLimiter } from '../../src/durable/rate-limiter';
import { createTenant, setPlan } from '../helpers/fixtures';
import { HOSTILE, type PRIVILEGED_FIELDS, type Schema, SpecSchemas } from './schema-arb';
import { type Operation, operationsOf, responseValidator } from './spec';

// Contract fuzzing: requests for EVERY operation of the published document (read from
// /openapi.json at run time, so new routes are covered without touching this file) — valid,
// boundary and hostile — checked against the document: no 5xx, only declared statuses, bodies
// that match the declared schemas, nothing written by a failed request or a read, every data
// change audited, and privileged fields (tenant_id, role, plan, ...) never applied.
// Seeded: the same seed generates the same requests (test/fuzz/contract.test.ts picks it).

type TokenKind = 'owner' | 'admin' | 'member' | 'otherTenant' | 'none' | 'garbage' | 'noScopes';
type Body = { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; type?: string } | { kind: 'none' };
interface Generated {
  label: string;
  token: TokenKind;
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: Body;
  mass?: boolean;
}
const isIdSchema = (s: Schema) => typeof s.pattern === 'string' && /^\^[a-z]{3}_/.test(s.pattern);
const fromPool = (n: number) => ({ fromPool: n });
const isPoolRef = (v: unknown): v is { fromPool: number } => typeof v === 'object' && v !== null && 'fromPool' in v;

/** The request arbitrary of one operation. */
function requestsFor(op: Operation, schemas: SpecSchemas): fc.Arbitrary<Generated> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header' && !/^authorization$/i.test(p.name));
  const record = (params: Schema[], value: (p: Schema) => fc.Arbitrary<unknown>) =>
    fc.record(Object.fromEntries(params.map((p) => [p.name, value(p)])), {
      requiredKeys: params.filter((p) => p.required).map((p) => p.name) as never[],
    }) as fc.Arbitrary<Record<string, unknown>>;

  const validPath = record(pathParams, (p) =>
    fc.oneof({ weight: 4, arbitrary: fc.nat().map(fromPool) }, { weight: 1, arbitrary: schemas.valid(p.schema) }),
  );
  // Optional query parameters now and then (each one narrows or conflicts); ids from the pool.
  const validQuery = record(queryParams, (p) => {
    if (p.name === 'cursor') return fc.constant(undefined);
    const value = isIdSchema(schemas.resolve(p.schema))
      ? fc.oneof({ weight: 3, arbitrary: fc.nat().map(fromPool) }, { weight: 1, arbitrary: schemas.valid(p.schema) })
      : schemas.valid(p.schema);
    return p.required
      ? value
      : fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });
  }).map((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)));
  const validHeaders = record(headerParams, (p) =>
    /^if-match$/i.test(p.name) ? fc.nat().map(fromPool) : schemas.valid(p.schema),
  );
  const validBody: fc.Arbitrary<Body> = op.body
    ? schemas.valid(op.body).map((value) => ({ kind: 'json' as const, value }))
    : fc.constant({ kind: 'none' as const });
  const owner = fc.constantFrom<TokenKind>('owner', 'owner', 'owner', 'owner', 'owner', 'owner', 'admin', 'member');

  const base = fc.record({ token: owner, path: validPath, query: validQuery, headers: validHeaders, body: validBody });
  const variants: fc.Arbitrary<Generated>[] = [
    base.map((r) => ({ ...r, label: 'valid' })),
    base.chain((r) =>
      fc
        .constantFrom<TokenKind>('none', 'garbage', 'otherTenant', 'noScopes')
        .map((token) => ({ ...r, token, label: `token:${token}` })),
    ),
  ];
  if (pathParams.length) {
    variants.push(
      base.chain((r) =>
        record(pathParams, (p) => schemas.invalid(p.schema)).map((path) => ({ ...r, path, label: 'invalid path' })),
      ),
    );
  }
  if (queryParams.length) {
    const oneBadParam = fc
      .constantFrom(...queryParams)
      .chain((p) =>
        (p.name === 'cursor' ? FORGED_CURSOR : schemas.invalid(p.schema)).map((bad) => [p.name, bad] as const),
      );
    variants.push(
      base.chain((r) =>
        oneBadParam.map(([name, bad]) => ({
          ...r,
          query: { ...r.query, [name]: bad },
          label: `invalid query ${name}`,
        })),
      ),
    );
  }
  if (headerParams.length) {
    variants.push(
      base.chain((r) =>
        fc
          .constantFrom(...headerParams)
          .chain((p) =>
            schemas
              .invalid(p.schema)
              .map((bad) => ({ ...r, headers: { ...r.headers, [p.name]: bad }, label: `invalid header ${p.name}` })),
          ),
      ),
    );
  }
  if (op.body) {
    const bodySchema = schemas.resolve(op.body);
    const keys = Object.keys(bodySchema.properties ?? {});
    const required: string[] = bodySchema.required ?? [];
    const json = (value: unknown): Body => ({ kind: 'json', value });
    const objectBody = (r: { body: Body }) =>
      r.body.kind === 'json' && typeof r.body.value === 'object' && r.body.value && !Array.isArray(r.body.value)
        ? (r.body.value as Record<string, unknown>)
        : {};
    const bodyVariants: fc.Arbitrary<[string, Body]>[] = [
      HOSTILE.map((v) => ['hostile body', json(v)]),
      fc
        .dictionary(fc.string({ minLength: 1, maxLength: 12 }), HOSTILE, { minKeys: 1, maxKeys: 3 })
        .map((extra) => ['extra fields', { kind: 'json', value: extra }]),
      fc
        .constantFrom('{', '{"a":', '[1,2', 'nul', '{"a":1}}', '\u0000', '')
        .map((text) => ['malformed json', { kind: 'raw', text, type: 'application/json' }]),
      fc
        .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml')
        .map((type) => ['wrong content type', { kind: 'raw', text: '{}', type }]),
    ];
    if (keys.length)
      bodyVariants.push(
        fc
          .tuple(fc.constantFrom(...keys), HOSTILE)
          .map(([k, v]) => [`hostile ${k}`, { kind: 'json', value: { [k]: v } }]),
      );
    variants.push(
      base.chain((r) =>
        fc
          .oneof(
            ...bodyVariants,
            ...(keys.length
              ? [
                  fc
                    .tuple(fc.constantFrom(...keys), HOSTILE)
                    .map(([k, v]): [string, Body] => [
                      `hostile ${k} in valid body`,
                      json({ ...objectBody(r), [k]: v }),
                    ]),
                ]
              : []),
            ...(keys.length
              ? [
                  fc
                    .constantFrom(...keys)
                    .chain((k) =>
                      schemas
                        .invalid(bodySchema.properties[k])
                        .map((v): [string, Body] => [`boundary ${k}`, json({ ...objectBody(r), [k]: v })]),
                    ),
                ]
              : []),
            ...(required.length
              ? [
                  fc.constantFrom(...required).map((k): [string, Body] => {
                    const { [k]: _, ...rest } = objectBody(r);
                    return [`missing ${k}`, json(rest)];
                  }),
                ]
              : []),
          )
          .map(([label, body]) => ({ ...r, body, label })),
      ),
      base.map((r) => ({ ...r, label: 'mass assignment', mass: true })),
    );
  }
  return fc.oneof(...variants);
}

/** A URL cannot carry a lone surrogate: clients send U+FFFD instead. */
const wellFormed = (s: string) =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

const FORGED_CURSOR = fc.oneof(
  fc.constantFrom('x', 'a.b', 'eyJiIjoiIiwicCI6W119.AAAA', '.', '..', '%00', 'e30.e30.e30'),
  fc
    .base64String({ minLength: 4, maxLength: 200 })
    .map((s) => `${s.replace(/=+$/, '')}.${s.slice(0, 20).replace(/=+$/, '')}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
);

interface Fixture {
  tenantId: string;
  ownerId: string;
  tokens: Record<string, string>;
}

const FINGERPRINT = `SELECT
  (SELECT json_group_array(json_array(name, plan, memory_count, updated_at, deleted_at)) FROM tenants WHERE id = f.tid) AS tenant,
  (SELECT json_group_array(json_array(id, role, email, name, updated_at, deleted_at)) FROM users WHERE tenant_id = f.tid) AS users,
  (SELECT count(*) || ':' || total(version) || ':' || total(updated_at) || ':' || count(deleted_at) FROM memories WHERE tenant_id = f.tid) AS memories,
  (SELECT count(*) || ':' || total(last_activity_at) || ':' || count(expired_at) FROM sessions WHERE tenant_id = f.tid) AS sessions,
  (SELECT group_concat(plan || status || updated_at) FROM subscriptions WHERE tenant_id = f.tid) AS subscription,
  (SELECT json_group_array(json_array(id, url, description, events, enabled, secret, updated_at)) FROM webhook_endpoints WHERE tenant_id = f.tid) AS webhooks,
  (SELECT count(*) FROM audit_logs WHERE tenant_id = f.tid) AS audits
FROM (SELECT 1 AS k, ?1 AS tid UNION ALL SELECT 2, ?2) f ORDER BY f.k`;

/** Both tenants' data as comparable strings (audit rows apart: they are the record of changes). One round trip. */
async function fingerprints(a: string, b: string) {
  const [result] = await env.DB.batch([env.DB.prepare(FINGERPRINT).bind(a, b)]);
  return (result!.results as Record<string, unknown>[]).map(({ audits, ...data }) => ({
    data: JSON.stringify(data),
    audits: Number(audits),
  }));
}

export interface FuzzOptions {
  /** Sends one request to the app under test. */
  send: (path: string, init: RequestInit) => Promise<Response>;
  seed: number;
  totalRequests: number;
  minPerOperation: number;
  /** Which operations of the document to fuzz (default: all). */
  only?: (op: Operation) => boolean;
  /** Stop after this many violations (default 20: enough to act on). */
  maxFailures?: number;
}

/** Runs the fuzzer; returns what it saw and every contract violation it found. */
export async function fuzzContract({
  send,
  seed: SEED,
  totalRequests: TOTAL_REQUESTS,
  minPerOperation: MIN_PER_OPERATION,
  only,
  maxFailures = 20,
}: FuzzOptions) {
  const doc: Schema = await (await send('/openapi.json', {})).json();
  const ops = operationsOf(doc).filter(only ?? (() => true));
  const validate = responseValidator(doc);
  const fixture = async (): Promise<Fixture> => {
    const t = await createTenant('Fuzz tenant');
    // The team plan's quota, so the run measures the contract rather than the rate limit.
    await setPlan(t.tenant.id, 'team');
    const admin = await t.addUser('admin');
    const member = await t.addUser('member');
    return {
      tenantId: t.tenant.id,
      ownerId: t.owner.id,
      tokens: {
        owner: await t.owner.token(),
        admin: await admin.token(),
        member: await member.token(),
        noScopes: await t.owner.token({ scopes: [] }),
      },
    };
  };
  const a = await fixture();
  const b = await fixture();
  const schemas = new SpecSchemas(doc);
  // Deleting the caller's own tenant (DELETE on a path without parameters) ends every later
  // request with 401, so those run last.
  const ordered = [...ops].sort(
    (x, y) =>
      Number(x.method === 'DELETE' && !x.path.includes('{')) - Number(y.method === 'DELETE' && !y.path.includes('{')),
  );
  const perOp = Math.max(MIN_PER_OPERATION, Math.ceil(TOTAL_REQUESTS / ops.length));
  const plan = ordered.map((op, i) => ({
    op,
    requests: fc.sample(requestsFor(op, schemas), { seed: SEED + i, numRuns: perOp }),
  }));

  const ids: string[] = [];
  // Generated bodies cannot create a webhook (their URLs fail the address rules): one to start from,
  // disabled, at a closed local port (WEBHOOK_ALLOWED_HOSTS).
  const hook = await send('/v1/webhooks', {
    method: 'POST',
    headers: { authorization: `Bearer ${a.tokens.owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', enabled: false }),
  });
  if (hook.status !== 201) throw new Error(`fuzz fixture: POST /v1/webhooks answered ${hook.status}`);
  ids.push(((await hook.json()) as { id: string }).id);
  const etags: string[] = [];
  const failures: string[] = [];
  const acknowledgedWrites = new Set<string>();
  const changedData = new Set<string>();
  const statusCounts: Record<string, number> = {};
  const validOutcomes: Record<string, number> = {};
  let sent = 0;
  let previous: { data: string; audits: number }[] | undefined; // nothing else writes: last "after" is the next "before"

  const resetQuota = async () => {
    for (const f of [a, b]) {
      const stub = env.RATE_LIMITER!.get(env.RATE_LIMITER!.idFromName(f.tenantId));
      await runInDurableObject(stub, (limiter: RateLimiter) => {
        (limiter as unknown as { windowStart: number }).windowStart = 0;
      });
    }
  };

  const serialize = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
  const pick = <T>(pool: T[], ref: { fromPool: number }) => pool[ref.fromPool % pool.length];

  // Interleave operations round by round, so reads and updates find what creates made.
  const rounds = Math.max(...plan.map((p) => p.requests.length));
  for (let round = 0; round < rounds; round++) {
    for (const { op, requests } of plan) {
      const g = requests[round];
      if (!g) continue;
      if (sent % 1000 === 0) await resetQuota();
      const requestId = `fz-${SEED}-${sent++}`;

      let path = op.path;
      for (const p of op.params.filter((p) => p.in === 'path')) {
        let v = g.path[p.name];
        if (isPoolRef(v)) {
          const pattern = schemas.resolve(p.schema).pattern;
          const pool = pattern ? ids.filter((id) => new RegExp(pattern).test(id)) : ids;
          v = pool.length ? pick(pool, v) : `${p.name}-unknown`;
        }
        // An empty, "." or ".." segment would address another route: not an instance of this one.
        const segment = encodeURIComponent(wellFormed(serialize(v)));
        path = path.replace(`{${p.name}}`, ['', '.', '..'].includes(segment) ? '-' : segment);
      }
      const qs = new URLSearchParams();
      for (let [k, v] of Object.entries(g.query)) {
        if (isPoolRef(v)) {
          const pattern = new RegExp(schemas.resolve(op.params.find((p) => p.name === k)?.schema).pattern);
          const pool = ids.filter((id) => pattern.test(id));
          v = pool.length ? pick(pool, v) : undefined;
          if (v === undefined) continue;
        }
        const style = op.params.find((p) => p.name === k && p.in === 'query')?.style;
        if (style === 'deepObject' && v && typeof v === 'object' && !Array.isArray(v))
          for (const [key, x] of Object.entries(v)) qs.append(`${k}[${key}]`, serialize(x));
        else if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) for (const x of v) qs.append(k, String(x));
        else qs.append(k, serialize(v));
      }
      const headers: Record<string, string> = { 'x-request-id': requestId };
      for (const [k, v] of Object.entries(g.headers)) {
        const value = isPoolRef(v) ? (etags.length ? pick(etags, v)! : '"none"') : serialize(v);
        if (/^[\t\x20-\x7e]*$/.test(value)) headers[k] = value; // a client cannot send other bytes in a header
      }
      const token =
        g.token === 'none'
          ? undefined
          : g.token === 'garbage'
            ? 'eyJhbGciOiJub25lIn0.e30.'
            : g.token === 'otherTenant'
              ? b.tokens.owner
              : a.tokens[g.token];
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      let sentJson: unknown;
      if (g.body.kind === 'json') {
        sentJson =
          g.mass && typeof g.body.value === 'object' && g.body.value && !Array.isArray(g.body.value)
            ? massAssign(g.body.value as Record<string, unknown>, schemas.resolve(op.body), b)
            : g.body.value;
        body = JSON.stringify(sentJson) ?? 'null';
        headers['content-type'] = 'application/json';
      } else if (g.body.kind === 'raw') {
        body = g.body.text;
        if (g.body.type) headers['content-type'] = g.body.type;
      }

      const before = previous ?? (await fingerprints(a.tenantId, b.tenantId));
      // Mass-assignment checks compare with the state just before (earlier requests may legitimately
      // have changed the plan or another tenant's roles: PUT /v1/subscription, the users API).
      const massState = async () => ({
        plan: (
          await env.DB.prepare('SELECT plan FROM tenants WHERE id = ?1').bind(a.tenantId).first<{ plan: string }>()
        )?.plan,
        roles: JSON.stringify(
          (
            await env.DB.prepare(
              'SELECT role, count(*) AS n FROM users WHERE tenant_id = ?1 AND deleted_at IS NULL GROUP BY role',
            )
              .bind(b.tenantId)
              .all()
          ).results,
        ),
      });
      const massBefore = g.mass ? await massState() : undefined;
      const res = await send(`${path}${qs.size ? `?${qs}` : ''}`, { method: op.method, headers, body });
      const text = await res.text();
      const after = (previous = await fingerprints(a.tenantId, b.tenantId));
      statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
      if (g.label === 'valid')
        validOutcomes[`${op.operationId} ${res.status}`] = (validOutcomes[`${op.operationId} ${res.status}`] ?? 0) + 1;

      const where = `${op.method} ${op.path} [${g.label}, token ${g.token}] ${requestId}`;
      const fail = (why: string) =>
        failures.push(
          `${where}: ${why}\n  request: ${`${path}${qs.size ? `?${qs}` : ''}`.slice(0, 300)} ${(body ?? '').slice(0, 300)}\n  response: ${res.status} ${text.slice(0, 300)}`,
        );
      let parsed: unknown;
      // NDJSON (GET /v1/export): every line is one value of the declared schema.
      const ndjson = (res.headers.get('content-type') ?? '').startsWith('application/x-ndjson');
      const values: unknown[] = [];
      for (const line of ndjson ? text.split('\n').filter(Boolean) : text.length ? [text] : []) {
        try {
          values.push(JSON.parse(line));
        } catch {
          fail('response body is not JSON');
        }
      }
      if (!ndjson) parsed = values[0];
      if (res.status >= 500 && !(res.status === 503 && op.operationId === 'getHealth')) fail('server error');
      for (const value of values.length ? values : [undefined]) {
        const problem = validate(op, res.status, res.headers.get('content-type'), value);
        if (problem) {
          fail(problem);
          break;
        }
      }
      if (res.headers.get('x-content-type-options') !== 'nosniff') fail('missing X-Content-Type-Options: nosniff');

      const ok = res.status >= 200 && res.status < 300;
      const isWrite = op.method !== 'GET';
      const changedA = before[0]!.data !== after[0]!.data;
      if (!ok || !isWrite) {
        if (changedA || before[0]!.audits !== after[0]!.audits)
          fail(`${ok ? 'a read' : 'a failed request'} changed the tenant's data`);
      }
      if (before[1]!.data !== after[1]!.data || before[1]!.audits !== after[1]!.audits) {
        if (g.token !== 'otherTenant' || !ok || !isWrite) fail("another tenant's data changed");
      }
      if (ok && isWrite) {
        acknowledgedWrites.add(requestId);
        if (changedA || before[1]!.data !== after[1]!.data) changedData.add(requestId);
      }
      if (g.mass && ok) {
        for (const [name, id] of [
          ['tenant_id', b.tenantId],
          ['user_id', b.ownerId],
        ]) {
          if (text.includes(id!)) fail(`mass assignment: ${name} from the body appears in the response`);
        }
        const massAfter = await massState();
        const declared = Object.keys(schemas.resolve(op.body).properties ?? {});
        if (!declared.includes('plan') && massAfter.plan !== massBefore!.plan)
          fail(`mass assignment: the tenant's plan became ${massAfter.plan}`);
        if (g.token !== 'otherTenant' && massAfter.roles !== massBefore!.roles)
          fail('mass assignment: roles changed in another tenant');
        if (typeof parsed === 'object' && parsed && (parsed as { version?: unknown }).version === MASS_VERSION)
          fail('mass assignment: version from the body was applied');
      }
      // Strict bodies: a body with fields its schema does not declare is never accepted, and the 422
      // names them (so the effect checks above only matter if that ever regresses).
      if (g.mass && sentJson && typeof sentJson === 'object' && !Array.isArray(sentJson)) {
        const declared = Object.keys(schemas.resolve(op.body).properties ?? {});
        const undeclared = Object.keys(sentJson).filter((k) => !declared.includes(k));
        if (undeclared.length > 0 && ok) fail(`undeclared body fields were accepted: ${undeclared.join(', ')}`);
        if (undeclared.length > 0 && res.status === 422 && !undeclared.some((k) => text.includes(`"json.${k}"`)))
          fail(`the 422 does not name an undeclared field (${undeclared.join(', ')})`);
      }
      if (ok && parsed !== undefined) {
        for (const id of text.match(/"[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}"/g) ?? []) {
          const raw = id.slice(1, -1);
          if (!ids.includes(raw) && raw !== a.ownerId) ids.push(raw);
        }
        const etag = res.headers.get('etag');
        if (etag && !etags.includes(etag)) etags.push(etag);
      }
      if (failures.length >= maxFailures) break;
    }
    if (failures.length >= maxFailures) break;
  }

  // Every audit row written during the run belongs to an acknowledged write, and every
  // acknowledged write that changed data left one.
  const audits = await env.DB.prepare(
    "SELECT request_id, count(*) AS n FROM audit_logs WHERE tenant_id IN (?1, ?2) AND request_id LIKE 'fz-%' GROUP BY request_id",
  )
    .bind(a.tenantId, b.tenantId)
    .all<{ request_id: string; n: number }>();
  const audited = new Set(audits.results.map((r) => r.request_id));
  for (const id of audited)
    if (!acknowledgedWrites.has(id)) failures.push(`audit row for ${id}, which was not an acknowledged write`);
  for (const id of changedData) if (!audited.has(id)) failures.push(`${id} changed data but left no audit row`);
  // The live-memory counter is exact.
  for (const f of [a, b]) {
    const row = await env.DB.prepare(
      'SELECT memory_count, (SELECT count(*) FROM memories WHERE tenant_id = ?1 AND deleted_at IS NULL) AS live FROM tenants WHERE id = ?1',
    )
      .bind(f.tenantId)
      .first<{ memory_count: number; live: number }>();
    if (row!.memory_count !== row!.live)
      failures.push(`tenant ${f.tenantId}: memory_count ${row!.memory_count} != ${row!.live} live memories`);
  }

  const summary =
    `contract fuzz: seed ${SEED}, ${sent} requests over ${ops.length} operations (${perOp} each), ` +
    `${acknowledgedWrites.size} acknowledged writes (${changedData.size} changed data, ${audited.size} audited), statuses ${JSON.stringify(statusCounts)}`;
  return { sent, operations: ops.length, failures, summary, validOutcomes };
}

const MASS_VERSION = 987_654;
/** A valid body plus every privileged field the body schema does not declare, aimed at tenant B. */
function massAssign(body: Record<string, unknown>, schema: Schema, b: Fixture): Record<string, unknown> {
  const declared = new Set(Object.keys(schema.properties ?? {}));
  const values: Record<(typeof PRIVILEGED_FIELDS)[number], unknown> = {
    tenant_id: b.tenantId,
    user_id: b.ownerId,
    role: 'owner',
    plan: 'free',
    version: MASS_VERSION,
    id: 'mem_00000000000000000000000000',
    created_at: '2000-01-01T00:00:00.000Z',
    deleted_at: '2000-01-01T00:00:00.000Z',
    memory_count: 1_000_000,
  };
  return { ...body, ...Object.fromEntries(Object.entries(values).filter(([k]) => !declared.has(k))) };
}
