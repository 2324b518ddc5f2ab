import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { explainRules, isAdmin, type GrantPolicy } from '../../shared/domain/grant-policy';
import type { Authenticator } from '../../shared/http/authenticator';
import { header, json, methodOf, pathOf, type HttpEvent } from '../../shared/http/event';
import { httpRoute, publicRoute } from '../../shared/http/route';
import type { whoamiAnswerSchema } from './answers';

/** GET /v1/whoami: the identity as the broker sees it, and which grant rules apply to it. */
export function whoamiRoute(deps: { readonly grants: GrantPolicy; readonly authenticator: Authenticator }) {
  return httpRoute({ authenticator: deps.authenticator }, async ({ identity }) => {
    const answer: z.infer<typeof whoamiAnswerSchema> = {
      caller: identity.caller,
      kind: identity.kind,
      ...(identity.kind === 'oidc' ? { issuer: identity.issuerId, subject: identity.subject } : { principalArn: identity.principalArn, accountId: identity.accountId }),
      attributes: identity.attributes,
      ...(identity.kind === 'oidc' && identity.claimLists ? { claimLists: Object.fromEntries(Object.entries(identity.claimLists).map(([name, values]) => [name, [...values]])) } : {}),
      ...(identity.kind === 'oidc' && identity.unreadableClaims ? { unreadableClaims: [...identity.unreadableClaims] } : {}),
      admin: isAdmin(deps.grants, identity),
      rules: explainRules(deps.grants, identity).map(({ roles, profiles, ...rule }) => ({ ...rule, ...(roles ? { roles: [...roles] } : {}), ...(profiles ? { profiles: [...profiles] } : {}) })),
    };
    return json(200, answer);
  });
}

/**
 * GET /v1/openapi.json: the API document, public and cacheable (revalidated by ETag). Served here,
 * by the smallest API function, so no other bundle carries it.
 */
export function openApiRoute(document: unknown) {
  const text = JSON.stringify(document);
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  const headers = { 'cache-control': 'public, max-age=300', etag };
  return publicRoute(async ({ event }) => {
    if (header(event, 'if-none-match')?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) return { statusCode: 304, headers, body: '' };
    return { statusCode: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: text };
  });
}

/** Which of this function's routes an event is for. */
export function routeOf(event: HttpEvent): 'whoami' | 'openApiDocument' {
  return methodOf(event) === 'GET' && /\/v1\/openapi\.json$/.test(pathOf(event)) ? 'openApiDocument' : 'whoami';
}
