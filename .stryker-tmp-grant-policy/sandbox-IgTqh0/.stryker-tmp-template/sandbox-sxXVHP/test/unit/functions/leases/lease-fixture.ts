// @ts-nocheck
// 
import { randomBytes } from 'node:crypto';
import { leasesRoutes, type LeasesRouteDeps } from '../../../../functions/leases/routes';
import type { GrantPolicy } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { PageCursors } from '../../../../shared/domain/page-cursor';
import { Authenticator } from '../../../../shared/http/authenticator';
import {
  FakeCertificateAuthority,
  FixedClock,
  InMemoryLeaseStore,
  RecordingRoleAssumer,
  RecordingSessionRevoker,
  SequentialIds,
  StaticTokenVerifier,
  oidcIdentity,
} from '../../../fakes';
import { httpEvent, lambdaContext } from '../../../support/http-events';

export const ACCOUNT = '123456789012';
export const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
export const TEAM_A_ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-app`;

/** team-* namespaces: their app role and a mesh certificate; ops: admin. */
export function grantsYaml(options: { teamRoles?: string; autoRenew?: boolean } = {}): string {
  return `
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["${options.teamRoles ?? `arn:aws:iam::${ACCOUNT}:role/\${namespace}-app`}"]
      maxDurationSeconds: 3600
    certificates:
      profiles:
        - name: mesh
          caArn: ${CA}
          maxValiditySeconds: 86400
          autoRenew: ${options.autoRenew ?? true}
          san:
            dns: ["\${serviceaccount}.\${namespace}.svc"]
  - id: operators
    callers: [{ oidc: k8s, claims: { namespace: ops } }]
    admin: true
`;
}

export const teamA = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
export const teamB = oidcIdentity({ namespace: 'team-b', serviceaccount: 'api' });
export const operator = oidcIdentity({ namespace: 'ops', serviceaccount: 'admin' });

export const TOKENS = { teamA: 't-team-a', teamB: 't-team-b', operator: 't-ops' } as const;

export function leaseWorld(options: { grants?: GrantPolicy; revoker?: RecordingSessionRevoker } = {}) {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const leases = new InMemoryLeaseStore();
  const ids = new SequentialIds();
  const sts = new RecordingRoleAssumer(clock);
  const ca = new FakeCertificateAuthority();
  const tokens = new StaticTokenVerifier().accept(TOKENS.teamA, teamA).accept(TOKENS.teamB, teamB).accept(TOKENS.operator, operator);
  const deps: LeasesRouteDeps = {
    grants: options.grants ?? parseGrantPolicy(grantsYaml()),
    leases,
    clock,
    ids,
    cursors: new PageCursors(randomBytes(32)),
    authenticator: new Authenticator({ tokenVerifier: tokens }),
    credentials: { roleAssumer: sts },
    certificates: { ca, readyWithinMs: 0, sleep: async () => undefined },
    ...(options.revoker ? { sessionRevoker: options.revoker } : {}),
  };
  const routes = leasesRoutes(deps);
  return { clock, leases, ids, sts, ca, deps, routes };
}

type Routes = ReturnType<typeof leasesRoutes>;

/** Calls one of the four lease routes as API Gateway would. */
export async function call(routes: Routes, token: string, method: 'GET' | 'POST', path: string, init: { query?: Record<string, string>; body?: unknown } = {}) {
  const id = /^\/v1\/leases\/([^/]+)/.exec(path)?.[1];
  const event = httpEvent({
    method,
    path,
    headers: { authorization: `Bearer ${token}` },
    ...(init.query ? { query: init.query } : {}),
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(id ? { pathParameters: { id } } : {}),
  });
  const route = method === 'GET' ? (id ? routes.get : routes.list) : path.endsWith('/revoke') ? routes.revoke : routes.renew;
  const result = await route(event, lambdaContext);
  return { status: result.statusCode, headers: result.headers, body: JSON.parse(result.body) };
}
