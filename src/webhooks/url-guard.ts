// The SSRF guard of webhook URLs, applied when an endpoint is created or its URL changed, and
// again before every delivery run (DNS may have changed in between). Hosts listed in
// WEBHOOK_ALLOWED_HOSTS skip every rule (local development and tests use it for 127.0.0.1).
import type { Env } from '../env';
import { allowedHosts, isBlockedAddress, isLocalName } from '../lib/webhook-address';

/** Resolves a host name to its IPv4 and IPv6 addresses (throws when it cannot). */
export type Resolve = (host: string) => Promise<string[]>;

const DNS_TIMEOUT_MS = 3000;

/** DNS over HTTPS (Cloudflare's resolver): a Worker has no other way to resolve a name. */
export const dohResolve: Resolve = async (host) => {
  const lookup = async (type: 'A' | 'AAAA') => {
    const res = await fetch(`https://cloudflare-dns.com/dns-query?name=${encodeURIComponent(host)}&type=${type}`, {
      headers: { accept: 'application/dns-json' },
      signal: AbortSignal.timeout(DNS_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`DNS answered ${res.status}`);
    const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
    return (body.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
  };
  const [v4, v6] = await Promise.all([lookup('A'), lookup('AAAA')]);
  return [...v4, ...v6];
};

/** Why `url` may not receive webhooks, or null when it may. */
export async function urlRefusal(
  url: string,
  env: Pick<Env, 'WEBHOOK_ALLOWED_HOSTS'>,
  resolve: Resolve = dohResolve,
): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  const host = parsed.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (allowedHosts(env.WEBHOOK_ALLOWED_HOSTS).has(host)) return null;
  if (parsed.protocol !== 'https:') return 'must use https';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  const literal = isBlockedAddress(host);
  if (literal !== null) return literal ? 'is a loopback, private, link-local, CGNAT or metadata address' : null;
  if (isLocalName(host)) return 'names the local machine';
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return 'could not be resolved';
  }
  if (addresses.length === 0) return 'could not be resolved';
  if (addresses.some((a) => isBlockedAddress(a) !== false))
    return 'resolves to a loopback, private, link-local, CGNAT or metadata address';
  return null;
}
