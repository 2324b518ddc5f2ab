// @ts-nocheck
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/**
 * A development OIDC issuer for local runs and tests ONLY: it serves a discovery document and a
 * JWKS on a loopback port and mints tokens for any subject and claims you ask for. It is never
 * part of the deployed stack (infra/ does not reference local/).
 */
export interface DevIssuer {
  readonly url: string;
  readonly kid: string;
  /** Mints a token: `sub`, `aud` and claims as given; iat/exp default to now and now + 1 h. */
  mint(claims: JWTPayload & { sub: string; aud?: string | string[] }, options?: MintOptions): Promise<string>;
  /** The public JWK served in the JWKS. */
  readonly publicJwk: JWK;
  /** The signing private key (tests use it to forge tokens for other issuers). */
  readonly privateKey: CryptoKey;
  /** How many times the discovery document and the JWKS were fetched (tests check caching). */
  readonly requestCounts: Readonly<{ discovery: number; jwks: number }>;
  stop(): Promise<void>;
}

export interface MintOptions {
  readonly issuedAt?: number;
  readonly expiresAt?: number;
  readonly notBefore?: number;
  readonly kid?: string;
  readonly issuer?: string;
}

export async function startDevIssuer(options: { port?: number; defaultAudience?: string; mintEndpoint?: boolean } = {}): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  // Unique even for two issuers started in the same millisecond, so their keys are told apart.
  const kid = `dev-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const requestCounts = { discovery: 0, jwks: 0 };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/.well-known/openid-configuration') {
      requestCounts.discovery += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks.json`, id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['id_token'], subject_types_supported: ['public'] }));
    } else if (path === '/jwks.json') {
      requestCounts.jwks += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else if (path === '/mint' && req.method === 'POST' && options.mintEndpoint) {
      // Development convenience: mint a token for any claims posted as JSON (loopback only).
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        let claims: JWTPayload & { sub: string };
        try {
          claims = JSON.parse(raw || '{}');
          if (typeof claims.sub !== 'string') throw new Error('sub');
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('POST a JSON object with at least "sub".\n');
          return;
        }
        void issuer.mint(claims).then((token) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${token}\n`));
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const issuer: DevIssuer = {
    url,
    kid,
    publicJwk,
    privateKey,
    requestCounts,
    async mint(claims, mintOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const { sub, aud, ...rest } = claims;
      const jwt = new SignJWT(rest)
        .setProtectedHeader({ alg: 'RS256', kid: mintOptions.kid ?? kid, typ: 'JWT' })
        .setIssuer(mintOptions.issuer ?? url)
        .setSubject(sub)
        .setAudience(aud ?? options.defaultAudience ?? 'nocreds')
        .setIssuedAt(mintOptions.issuedAt ?? now)
        .setExpirationTime(mintOptions.expiresAt ?? now + 3600);
      if (mintOptions.notBefore !== undefined) jwt.setNotBefore(mintOptions.notBefore);
      return jwt.sign(privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return issuer;
}
