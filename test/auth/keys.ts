import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

/** A fresh RS256 key pair for tests that serve their own JWKS. */
export async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    jwk,
    /** Signs an access token with this key. `kid` may name a key that does not exist; `expiresIn: null` omits exp. */
    sign: (
      claims: JWTPayload & { iss: string; aud: string | string[] },
      opts: { kid?: string; expiresIn?: number | null } = {},
    ) => {
      const jwt = new SignJWT({ sub: 'auth0|jwks-test', ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? kid })
        .setIssuedAt();
      if (opts.expiresIn !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expiresIn ?? 3600));
      return jwt.sign(privateKey);
    },
  };
}
