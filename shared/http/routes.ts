/**
 * API v1: every route, once. infra/nocreds.ts builds both HTTP APIs from this table,
 * local/server.ts serves it, and docs/openapi.json is generated from it (with the schemas in
 * functions/api-contract.ts: `npm run openapi`). Plain data, so infra and the local server can
 * read it without loading any function's code.
 */

/** How a caller proves who it is on a route. */
export type RouteAuth =
  /** SigV4, verified by API Gateway's IAM authorizer on the IAM API. */
  | 'iam'
  /** On the token API: an OIDC token (raw or `Bearer `) or a signed GetCallerIdentity proof, verified by the function. */
  | 'oidc';

/** The functions that serve HTTP routes (a subset of infra's BROKER_FUNCTIONS). */
export type RouteFunction = 'credentials' | 'certificates' | 'leases' | 'whoami';

export interface RouteSpec {
  /** The OpenAPI operationId, unique. */
  readonly id: string;
  readonly method: 'GET' | 'POST';
  /** Path template with `{name}` parameters, as API Gateway writes it. */
  readonly path: string;
  /** The function (functions/<fn>/handler.ts) that serves the route. */
  readonly fn: RouteFunction;
  /**
   * Every route is on the token API (which has no gateway authorizer); a route with `iam` is also
   * on the IAM API. Empty: anyone may call it (nothing secret, nothing per caller).
   */
  readonly auth: readonly RouteAuth[];
  readonly summary: string;
}

const CALLER: readonly RouteAuth[] = ['oidc', 'iam'];

export const ROUTES = [
  { id: 'vendCredentials', method: 'POST', path: '/v1/credentials', fn: 'credentials', auth: CALLER, summary: 'Vend STS credentials for a granted role' },
  // Token API only: SDKs send the container token raw in Authorization, never SigV4.
  { id: 'containerCredentials', method: 'GET', path: '/v1/credentials/container', fn: 'credentials', auth: ['oidc'], summary: 'Vend STS credentials in the container-credentials format' },
  { id: 'issueCertificate', method: 'POST', path: '/v1/certificates', fn: 'certificates', auth: CALLER, summary: 'Issue an X.509 certificate from the caller\'s CSR' },
  { id: 'trustBundle', method: 'GET', path: '/v1/trust-bundle', fn: 'certificates', auth: CALLER, summary: 'The CA certificates of the profiles the caller\'s grants name (PEM)' },
  { id: 'listLeases', method: 'GET', path: '/v1/leases', fn: 'leases', auth: CALLER, summary: 'The caller\'s leases (an admin grant sees all), paginated' },
  { id: 'getLease', method: 'GET', path: '/v1/leases/{id}', fn: 'leases', auth: CALLER, summary: 'One lease (and a pending certificate, once issued)' },
  { id: 'revokeLease', method: 'POST', path: '/v1/leases/{id}/revoke', fn: 'leases', auth: CALLER, summary: 'Revoke a lease' },
  { id: 'renewLease', method: 'POST', path: '/v1/leases/{id}/renew', fn: 'leases', auth: CALLER, summary: 'Renew a lease: a certificate with the same key, or fresh credentials' },
  { id: 'whoami', method: 'GET', path: '/v1/whoami', fn: 'whoami', auth: CALLER, summary: 'The caller as the broker sees it, and which grant rules apply' },
  // Served by the smallest API function, so only its bundle carries the document.
  { id: 'openApiDocument', method: 'GET', path: '/v1/openapi.json', fn: 'whoami', auth: [], summary: 'This API\'s OpenAPI 3.1 document' },
  // Issuer mode (functions/credentials/issuer-routes.ts): public, STS fetches them; served by the function that holds the KMS client.
  { id: 'openidConfiguration', method: 'GET', path: '/.well-known/openid-configuration', fn: 'credentials', auth: [], summary: 'The broker\'s OIDC discovery document (issuer mode)' },
  { id: 'jwks', method: 'GET', path: '/.well-known/jwks.json', fn: 'credentials', auth: [], summary: 'The broker\'s token verification keys (issuer mode)' },
] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['id'];

/** The route key API Gateway uses (`POST /v1/credentials`). */
export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Whether the route is on the IAM (SigV4) API too, not only on the token API. */
export function onIamApi(route: Pick<RouteSpec, 'auth'>): boolean {
  return route.auth.includes('iam');
}

/**
 * Matches a request path against a route's template; the parameters come back as they appear in
 * the path (still percent-encoded).
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const source = template.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const match = new RegExp(`^${source}$`).exec(path);
  if (!match) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, match[i + 1] as string]));
}

/** The route a request is for, or the methods its path allows when only the method is wrong. */
export function findRoute(method: string, path: string): { route: RouteSpec; params: Record<string, string> } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of ROUTES as readonly RouteSpec[]) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    return { route, params };
  }
  return allowed.length > 0 ? { allowed } : undefined;
}
