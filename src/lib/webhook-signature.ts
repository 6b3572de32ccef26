// Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` + base64 of
// random bytes; a message is signed as HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"),
// sent as `webhook-signature: v1,<base64>`, one space-separated entry per secret that signs.

const PREFIX = 'whsec_';

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

/** A new signing secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

async function sign(secret: string, content: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    fromBase64(secret.slice(PREFIX.length)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(content))));
}

/** The three Standard Webhooks headers of one message, signed by every secret in `secrets`. */
export async function webhookHeaders(
  secrets: string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  const signatures = await Promise.all(secrets.map(async (s) => `v1,${await sign(s, content)}`));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}
