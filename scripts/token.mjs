// npm run token -- --sub <sub> [--scope "read:memories write:memories"] [--ttl 1h] [--email a@b.c]
// Mints an access token signed with the local dev key (trusted only by the local Worker).
import { parseArgs } from 'node:util';
import { ALL_SCOPES, DEMO, mintDevToken, parseTtl } from './dev-auth.mjs';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: DEMO.sub },
    scope: { type: 'string', multiple: true },
    ttl: { type: 'string', default: '1h' },
    email: { type: 'string' },
  },
});
const scopes = values.scope ? values.scope.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean) : ALL_SCOPES;
process.stdout.write(
  `${await mintDevToken({ sub: values.sub, scopes, ttlSeconds: parseTtl(values.ttl), email: values.email })}\n`,
);
