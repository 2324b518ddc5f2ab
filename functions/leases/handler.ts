import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { cursorKeyReader } from '../../shared/adapters/cursor-key';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { IamSessionRevoker, revokerRoleIamClients } from '../../shared/adapters/iam-session-revoker';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { logger } from '../../shared/adapters/logger';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { brokerRoleAssumer } from '../../shared/adapters/broker-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { observeClient } from '../../shared/adapters/telemetry';
import { cursorKeySourceFrom, loadLeaseOperationsConfig, loadVendingConfig, sdkClientConfig } from '../../shared/config';
import { NotFoundError } from '../../shared/domain/errors';
import { longestSessionSeconds } from '../../shared/domain/grant-policy';
import { PageCursors } from '../../shared/domain/page-cursor';
import { errorResponse } from '../../shared/http/errors';
import { requestIdOf, type HttpEvent } from '../../shared/http/event';
import { leasesRoutes, routeOf, type LeasesRouteDeps } from './routes';

// Composition root: everything is built once per cold start.
// Vending config: renewing a credentials lease vends, in issuer mode too.
const config = loadVendingConfig();
const operations = loadLeaseOperationsConfig();
const sts = observeClient(new STSClient(sdkClientConfig(config)), 'STS');
const onLeaseWriteFailure = (leaseId: string, error: unknown) => logger.error('lease left pending after a failure', { leaseId, error: error as Error });
const deps: Omit<LeasesRouteDeps, 'cursors'> = {
  grants: config.grants,
  leases: new DynamoLeaseStore(observeClient(new DynamoDBClient(sdkClientConfig(config)), 'DynamoDB'), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  authenticator: brokerAuthenticator(config.grants, config),
  // Off unless configured: blocking sessions needs iam:PutRolePolicy on the opted-in roles.
  ...(operations.revocationEnabled ? { sessionRevoker: sessionRevoker() } : {}),
  credentials: { roleAssumer: brokerRoleAssumer(config, sts, systemClock).roleAssumer, retentionSeconds: config.leaseRetentionSeconds, onLeaseWriteFailure },
  certificates: {
    ca: new PcaCertificateAuthority(observeClient(new ACMPCAClient(sdkClientConfig(config)), 'PCA'), systemClock),
    retentionSeconds: config.leaseRetentionSeconds,
    onLeaseWriteFailure,
  },
};

// The cursor key is read from Secrets Manager (only its ARN is in the environment), first here at
// init, then from the Parameters cache; a rotated key rebuilds the routes with it.
const cursorKey = cursorKeyReader(cursorKeySourceFrom(), sdkClientConfig(config));
cursorKey().catch(() => undefined);
let built: { key: Buffer; routes: ReturnType<typeof leasesRoutes> } | undefined;

/** One function serves GET /v1/leases, GET /v1/leases/{id}, POST .../revoke and POST .../renew. */
export const handler = async (event: HttpEvent, context: Context) => {
  const route = routeOf(event);
  if (!route) return errorResponse(new NotFoundError('route_not_found', 'No such lease route.'), requestIdOf(event));
  let key: Buffer;
  try {
    key = await cursorKey();
  } catch (error) {
    logger.error('request failed', { requestId: requestIdOf(event), outcome: 'failed', code: (error as { code?: string }).code ?? 'internal_error', error: error as Error });
    return errorResponse(error, requestIdOf(event));
  }
  if (!built || !built.key.equals(key)) built = { key, routes: leasesRoutes({ ...deps, cursors: new PageCursors(key) }) };
  return built.routes[route](event, context);
};

/**
 * Deny policies are written in the role's own account, through the revoker role there (never with
 * the broker's own IAM client, which would write on a same-named role in the broker's account).
 */
function sessionRevoker(): IamSessionRevoker {
  const clients = revokerRoleIamClients({ sts, iamConfig: sdkClientConfig(config), ...(operations.revokerRoleName ? { roleName: operations.revokerRoleName } : {}) });
  // Cut-offs outlive the longest session any rule vends (issuer mode: up to 12 h, not 1 h).
  return new IamSessionRevoker(clients, { policyPrefix: operations.revocationPolicyPrefix, maxSessionSeconds: longestSessionSeconds(config.grants) });
}
