// @ts-nocheck
// 
// 
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { DependencyUnavailableError, UnauthenticatedError, ValidationError } from '../domain/errors';
import { assertSafeJson } from '../domain/json-input';
import type { IssuerConfig } from '../domain/grant-policy';
import { oidcIdentityFromClaims, presetDefaults } from '../domain/oidc';
import type { Identity } from '../domain/identity';
import type { TokenVerifier } from '../ports';

/** Clock skew tolerated on exp, nbf and iat. */
export const MAX_SKEW_SECONDS = 60;
/** An unknown `kid` refetches the issuer's JWKS at most this often. */
const JWKS_COOLDOWN_MS = 60_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * A verified token is remembered for at most this long (and never past its exp or maximum age):
 * workloads reuse one token for many calls, and an RSA verification costs more than the rest of
 * a vend. Short, so a key the issuer withdraws stops working within a minute.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_CACHE_SIZE = 1_000;

/**
 * Verifies bearer JWTs from the configured issuers with `jose`: issuer allowlist (exact `iss`),
 * keys from the issuer's discovery document and JWKS (cached, refetched on an unknown `kid` at
 * most once a minute), algorithm allowlist (asymmetric only, never `none`), required audience,
 * `exp`/`nbf`/`iat` with at most 60 s skew, a maximum token age, and the preset's required claims.
 */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly keySets = new Map<string, Promise<KeySet>>();
  private readonly verified = new Map<string, { identity: Identity; validUntilMs: number }>();

  constructor(
    private readonly issuers: readonly IssuerConfig[],
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async verify(token: string): Promise<Identity> {
    const cached = this.verified.get(token);
    if (cached && cached.validUntilMs > Date.now()) return cached.identity;
    if (cached) this.verified.delete(token);
    const identity = await this.verifyUncached(token);
    this.remember(token, identity);
    return identity;
  }

  private remember(token: string, identity: Identity): void {
    const claims = identity.attributes;
    const issuer = this.issuers.find((i) => identity.kind === 'oidc' && i.id === identity.issuerId);
    if (!issuer) return;
    const maxAge = issuer.maxTokenAgeSeconds ?? presetDefaults(issuer.preset).maxTokenAgeSeconds;
    const validUntilMs = Math.min(Number(claims.exp) * 1000, (Number(claims.iat) + maxAge) * 1000, Date.now() + VERIFIED_TOKEN_TTL_MS);
    if (!Number.isFinite(validUntilMs)) return;
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      // Oldest first: Map iteration follows insertion order.
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, { identity, validUntilMs });
  }

  private async verifyUncached(token: string): Promise<Identity> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new UnauthenticatedError('invalid_token', 'The bearer token is not a JWT.');
    }
    const issuer = this.issuers.find((i) => i.url === unverified.iss);
    if (!issuer) {
      throw new UnauthenticatedError('unknown_issuer', `Tokens from issuer ${JSON.stringify(unverified.iss ?? null)} are not accepted by this broker.`);
    }
    const defaults = presetDefaults(issuer.preset);
    const keys = await this.keySetFor(issuer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.url,
        audience: issuer.audiences,
        algorithms: issuer.algorithms ?? defaults.algorithms,
        clockTolerance: MAX_SKEW_SECONDS,
        maxTokenAge: issuer.maxTokenAgeSeconds ?? defaults.maxTokenAgeSeconds,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      throw mapJoseError(error, issuer);
    }
    assertSafeClaims(payload);
    return oidcIdentityFromClaims(issuer, payload);
  }

  private keySetFor(issuer: IssuerConfig): Promise<KeySet> {
    let keySet = this.keySets.get(issuer.id);
    if (!keySet) {
      keySet = this.discover(issuer);
      // A failed discovery is retried on the next request rather than cached.
      keySet.catch(() => this.keySets.delete(issuer.id));
      this.keySets.set(issuer.id, keySet);
    }
    return keySet;
  }

  private async discover(issuer: IssuerConfig): Promise<KeySet> {
    const discoveryUrl = `${issuer.url.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await this.fetchImpl(discoveryUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new DependencyUnavailableError('issuer_unavailable', `The discovery document of issuer "${issuer.id}" could not be fetched.`, 5, { cause: error });
    }
    if (document.issuer !== issuer.url || typeof document.jwks_uri !== 'string') {
      throw new DependencyUnavailableError('issuer_misconfigured', `The discovery document of issuer "${issuer.id}" does not name this issuer or a jwks_uri.`, 30);
    }
    const jwksUrl = new URL(document.jwks_uri);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(jwksUrl.hostname);
    if (jwksUrl.protocol !== 'https:' && !(issuer.allowInsecureLoopback && loopback)) {
      throw new DependencyUnavailableError('issuer_misconfigured', `Issuer "${issuer.id}" publishes its keys over plain HTTP; only HTTPS is accepted.`, 30);
    }
    return createRemoteJWKSet(jwksUrl, { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS, timeoutDuration: FETCH_TIMEOUT_MS });
  }
}

function mapJoseError(error: unknown, issuer: IssuerConfig): Error {
  const e = error as { code?: string; claim?: string; reason?: string; message?: string };
  switch (e?.code) {
    case 'ERR_JWT_EXPIRED':
      // jose reports a token older than maxTokenAge as expired too, but on the "iat" claim.
      if (e.claim === 'iat') return new UnauthenticatedError('token_too_old', `The token was issued too long ago for issuer "${issuer.id}"; get a fresh one.`);
      return new UnauthenticatedError('token_expired', 'The token has expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return new UnauthenticatedError('invalid_audience', `The token's audience is not one this broker accepts for issuer "${issuer.id}".`);
      if (e.claim === 'nbf') return new UnauthenticatedError('token_not_yet_valid', 'The token is not valid yet (nbf).');
      if (e.claim === 'iat' && e.reason === 'check_failed') return new UnauthenticatedError('token_too_old', `The token was issued too long ago (or in the future) for issuer "${issuer.id}".`);
      if (e.reason === 'missing') return new UnauthenticatedError('missing_claim', `The token has no "${e.claim}" claim.`);
      return new UnauthenticatedError('invalid_claims', `The token's "${e.claim}" claim is not acceptable.`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new UnauthenticatedError('algorithm_not_allowed', `The token's signing algorithm is not allowed for issuer "${issuer.id}".`);
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new UnauthenticatedError('unknown_signing_key', `No key of issuer "${issuer.id}" matches the token's key id.`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new UnauthenticatedError('invalid_signature', 'The token signature does not verify.');
    case 'ERR_JWKS_TIMEOUT':
      return new DependencyUnavailableError('issuer_unavailable', `The keys of issuer "${issuer.id}" could not be fetched in time.`, 5, { cause: error });
    default:
      if (error instanceof joseErrors.JOSEError) return new UnauthenticatedError('invalid_token', 'The token could not be verified.');
      if (error instanceof DependencyUnavailableError) return error;
      return new DependencyUnavailableError('issuer_unavailable', `The keys of issuer "${issuer.id}" could not be fetched.`, 5, { cause: error });
  }
}

/** Claims nest far less than this; a lease records them inside DynamoDB's 32-level limit. */
const MAX_CLAIM_DEPTH = 16;

/**
 * Claims are caller-controlled JSON like any body (shared/domain/json-input.ts): a `constructor`
 * or `__proto__` claim, at any depth, would change what a copy of them means (it broke the lease
 * write: a 503 for a bad token). Refused as an invalid token, naming the claim.
 */
function assertSafeClaims(payload: JWTPayload): void {
  try {
    assertSafeJson(payload, 'The token claims', MAX_CLAIM_DEPTH);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new UnauthenticatedError('invalid_token', error.message, { details: error.details ?? {} });
  }
}
