import { createLocalJWKSet, jwtVerify } from 'jose';
import { DependencyUnavailableError } from '../../../../shared/domain/errors';
import { ISSUER_PATHS, issuerRoutes } from '../../../../functions/credentials/issuer-routes';
import { LocalTokenSigner } from '../../../fakes';
import { httpEvent, parse } from '../../../support/http-events';

const settings = { issuer: 'https://nocreds.example.org', audience: 'sts.amazonaws.com' };
const logged: unknown[] = [];
const logger = { error: (message: string, fields: Record<string, unknown>) => void logged.push({ message, ...fields }) };
const get = (path: string) => httpEvent({ method: 'GET', path });

beforeEach(() => {
  logged.length = 0;
});

test('the discovery document names the issuer, its JWKS URL and the algorithms of the published keys; public and cacheable', async () => {
  const routes = issuerRoutes({ issuer: { settings, signer: new LocalTokenSigner() }, logger });
  const result = await routes.openidConfiguration(get(ISSUER_PATHS.openidConfiguration));
  expect(result.statusCode).toBe(200);
  expect(result.headers['cache-control']).toBe('public, max-age=300');
  expect(parse(result)).toMatchObject({
    issuer: 'https://nocreds.example.org',
    jwks_uri: 'https://nocreds.example.org/.well-known/jwks.json',
    id_token_signing_alg_values_supported: ['ES256'],
  });
});

test('the JWKS verifies what the signer signs, and holds public keys only', async () => {
  const signer = new LocalTokenSigner();
  const routes = issuerRoutes({ issuer: { settings, signer }, logger });
  const result = await routes.jwks(get(ISSUER_PATHS.jwks));
  expect(result.statusCode).toBe(200);
  expect(result.headers['cache-control']).toBe('public, max-age=300');
  const jwks = parse(result) as { keys: Array<Record<string, unknown>> };
  expect(jwks.keys).toHaveLength(1);
  expect(jwks.keys[0]).not.toHaveProperty('d');
  const token = await signer.sign({ iss: settings.issuer, aud: settings.audience, sub: 'k8s:x', exp: Math.floor(Date.now() / 1000) + 60 });
  await expect(jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: settings.issuer, audience: settings.audience })).resolves.toBeDefined();
});

test('a broker without an issuer answers both routes 404 issuer_not_configured, in the error envelope', async () => {
  const routes = issuerRoutes({ logger });
  for (const route of [routes.openidConfiguration, routes.jwks]) {
    const result = await route(get(ISSUER_PATHS.jwks));
    expect(result.statusCode).toBe(404);
    expect(parse(result).error).toMatchObject({ code: 'issuer_not_configured', requestId: expect.any(String) });
    expect(result.headers['cache-control']).toBe('no-store');
  }
  expect(logged).toEqual([]);
});

test('KMS unavailable: 503 with Retry-After, logged, never cached', async () => {
  const signer = new LocalTokenSigner();
  signer.failure = new DependencyUnavailableError('kms_unavailable', 'KMS is unavailable; retry after 1 s.', 1);
  const result = await issuerRoutes({ issuer: { settings, signer }, logger }).jwks(get(ISSUER_PATHS.jwks));
  expect(result.statusCode).toBe(503);
  expect(result.headers['retry-after']).toBe('1');
  expect(result.headers['cache-control']).toBe('no-store');
  expect(parse(result).error.code).toBe('kms_unavailable');
  expect(logged).toHaveLength(1);
});
