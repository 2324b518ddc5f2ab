// @ts-nocheck
import { explainRules, isAdmin, type GrantPolicy } from '../../shared/domain/grant-policy';
import type { Authenticator } from '../../shared/http/authenticator';
import { json } from '../../shared/http/event';
import { httpRoute } from '../../shared/http/route';

/** GET /v1/whoami: the identity as the broker sees it, and which grant rules apply to it. */
export function whoamiRoute(deps: { readonly grants: GrantPolicy; readonly authenticator: Authenticator }) {
  return httpRoute({ authenticator: deps.authenticator }, async ({ identity }) =>
    json(200, {
      caller: identity.caller,
      kind: identity.kind,
      ...(identity.kind === 'oidc' ? { issuer: identity.issuerId, subject: identity.subject } : { principalArn: identity.principalArn, accountId: identity.accountId }),
      attributes: identity.attributes,
      admin: isAdmin(deps.grants, identity),
      rules: explainRules(deps.grants, identity),
    }),
  );
}
