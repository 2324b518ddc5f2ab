import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { logger } from '../../shared/adapters/logger';
import { lazyPort } from '../../shared/adapters/lazy-port';
import { callerProofVerifierFor } from '../../shared/adapters/sts-caller-proof-verifier';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadConfig, loadLeaseOperationsConfig, sdkClientConfig } from '../../shared/config';
import { NotFoundError } from '../../shared/domain/errors';
import { PageCursors } from '../../shared/domain/page-cursor';
import { Authenticator } from '../../shared/http/authenticator';
import { errorResponse } from '../../shared/http/errors';
import { requestIdOf, type HttpEvent } from '../../shared/http/event';
import type { CertificateAuthority, RoleAssumer, SessionRevoker } from '../../shared/ports';
import { leasesRoutes, routeOf } from './routes';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const operations = loadLeaseOperationsConfig();
const onLeaseWriteFailure = (leaseId: string, error: unknown) => logger.error('lease left pending after a failure', { leaseId, error: error as Error });
const routes = leasesRoutes({
  grants: config.grants,
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  cursors: new PageCursors(operations.cursorKey),
  authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(config.grants.issuers), proofVerifier: callerProofVerifierFor(config) }),
  // Off unless configured: blocking sessions needs iam:PutRolePolicy on the opted-in roles.
  // Only revoke and renew call STS, PCA or IAM: those clients load on first use, not at cold start.
  ...(operations.revocationEnabled
    ? {
        sessionRevoker: lazyPort<SessionRevoker>(async () => {
          const [{ IAMClient }, { IamSessionRevoker }] = await Promise.all([import('@aws-sdk/client-iam'), import('../../shared/adapters/iam-session-revoker')]);
          return new IamSessionRevoker(new IAMClient(sdkClientConfig(config)), { policyPrefix: operations.revocationPolicyPrefix });
        }),
      }
    : {}),
  credentials: {
    roleAssumer: lazyPort<RoleAssumer>(async () => {
      const [{ STSClient }, { StsRoleAssumer }] = await Promise.all([import('@aws-sdk/client-sts'), import('../../shared/adapters/sts-role-assumer')]);
      return new StsRoleAssumer(new STSClient(sdkClientConfig(config)));
    }),
    retentionSeconds: config.leaseRetentionSeconds,
    onLeaseWriteFailure,
  },
  certificates: {
    ca: lazyPort<CertificateAuthority>(async () => {
      const [{ ACMPCAClient }, { PcaCertificateAuthority }] = await Promise.all([import('@aws-sdk/client-acm-pca'), import('../../shared/adapters/pca-certificate-authority')]);
      return new PcaCertificateAuthority(new ACMPCAClient(sdkClientConfig(config)), systemClock);
    }),
    retentionSeconds: config.leaseRetentionSeconds,
    onLeaseWriteFailure,
  },
});

/** One function serves GET /v1/leases, GET /v1/leases/{id}, POST .../revoke and POST .../renew. */
export const handler = async (event: HttpEvent, context: Context) => {
  const route = routeOf(event);
  if (!route) return errorResponse(new NotFoundError('route_not_found', 'No such lease route.'), requestIdOf(event));
  return routes[route](event, context);
};
