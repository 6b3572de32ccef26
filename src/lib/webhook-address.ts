// Which webhook destinations are refused (server-side request forgery): addresses that reach the
// platform itself or a private network. Pure; DNS resolution is in src/webhooks/url-guard.ts.

/** IPv4 ranges that are not the public internet: [network, prefix length]. */
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function v4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function v4Blocked(n: number): boolean {
  return V4_BLOCKED.some(([net, bits]) => {
    const size = 2 ** (32 - bits);
    return Math.floor(n / size) === Math.floor(v4ToInt(net)! / size);
  });
}

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail), or null. */
function v6Groups(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const n = v4ToInt(v4Tail[1]!);
    if (n === null) return null;
    text = `${text.slice(0, -v4Tail[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

function v6Blocked(g: number[]): boolean {
  const embeddedV4 = () => g[6]! * 65536 + g[7]!;
  if (g.slice(0, 7).every((x) => x === 0)) return g[7]! <= 1; // :: and ::1
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Blocked(embeddedV4()); // IPv4-mapped
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Blocked(embeddedV4()); // NAT64
  const first = g[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // unique local (fc00::/7), incl. cloud metadata fd00:ec2::254
    (first & 0xffc0) === 0xfe80 || // link-local
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && g[1] === 0x0db8) // documentation
  );
}

/** Whether `ip` (v4 or v6, no brackets) is an address a webhook may not reach; null when it is no IP at all. */
export function isBlockedAddress(ip: string): boolean | null {
  const v4 = v4ToInt(ip);
  if (v4 !== null) return v4Blocked(v4);
  const v6 = ip.includes(':') ? v6Groups(ip) : null;
  return v6 === null ? null : v6Blocked(v6);
}

/** Names that always mean the local machine or the platform, whatever DNS says. */
export const isLocalName = (host: string) =>
  host === 'localhost' || host.endsWith('.localhost') || host === 'metadata.google.internal';

/** The hosts of WEBHOOK_ALLOWED_HOSTS (comma-separated, lower-cased, IPv6 without brackets). */
export function allowedHosts(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\[(.*)\]$/, '$1'),
      )
      .filter(Boolean),
  );
}
