import { NotFoundError } from '../../shared/domain/errors';
import { discoveryDocument, type IssuerSettings } from '../../shared/domain/web-identity';
import { reportAnswer } from '../../shared/http/answers';
import { errorResponse, isServerFault } from '../../shared/http/errors';
import { json, requestIdOf, type HttpEvent, type HttpResult } from '../../shared/http/event';
import type { TokenSigner } from '../../shared/ports';

/**
 * How long relying parties (STS, any verifier) may cache the discovery document and the JWKS. Key
 * rotation waits longer than this between publishing a key and signing with it (README, "Issuer mode").
 */
export const ISSUER_DOCUMENT_MAX_AGE_SECONDS = 300;
const CACHEABLE = { 'cache-control': `public, max-age=${ISSUER_DOCUMENT_MAX_AGE_SECONDS}` } as const;

export interface IssuerRouteDeps {
  /** Absent: this broker is no issuer, and both routes answer 404 issuer_not_configured. */
  readonly issuer?: { readonly settings: IssuerSettings; readonly signer: TokenSigner };
  readonly logger: { error(message: string, fields: Record<string, unknown>): void };
}

type PublicRoute = (event: HttpEvent) => Promise<HttpResult>;

/**
 * GET /.well-known/openid-configuration and GET /.well-known/jwks.json: public and unauthenticated
 * (STS fetches them with no credentials), cacheable, and nothing secret: only public keys.
 */
export function issuerRoutes(deps: IssuerRouteDeps): { openidConfiguration: PublicRoute; jwks: PublicRoute } {
  const route =
    (answer: (issuer: NonNullable<IssuerRouteDeps['issuer']>) => Promise<unknown>): PublicRoute =>
    async (event) => {
      const requestId = requestIdOf(event);
      let result: HttpResult;
      try {
        if (!deps.issuer) throw new NotFoundError('issuer_not_configured', 'This broker is not an OIDC issuer: no grant rule uses credentials.via: web-identity and no issuer key is configured.');
        result = json(200, await answer(deps.issuer), CACHEABLE);
      } catch (error) {
        if (isServerFault(error)) deps.logger.error('issuer document failed', { requestId, error: error as Error });
        result = errorResponse(error, requestId);
      }
      // Like every route: the integration tests check each answer against docs/openapi.json.
      reportAnswer(event, result);
      return result;
    };
  return {
    openidConfiguration: route(async ({ settings, signer }) => discoveryDocument(settings, [...new Set((await signer.publicKeys()).map((key) => key.alg))])),
    jwks: route(async ({ signer }) => ({ keys: await signer.publicKeys() })),
  };
}

/** The paths the credentials function serves for issuer mode (infra and the local server route them here). */
export const ISSUER_PATHS = { openidConfiguration: '/.well-known/openid-configuration', jwks: '/.well-known/jwks.json' } as const;
