import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { brokerRoleAssumer } from '../../shared/adapters/broker-role-assumer';
import { logger } from '../../shared/adapters/logger';
import { observeClient } from '../../shared/adapters/telemetry';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadVendingConfig, sdkClientConfig } from '../../shared/config';
import type { HttpEvent } from '../../shared/http/event';
import { SessionReuse } from '../../shared/use-cases/session-reuse';
import { ISSUER_PATHS, issuerRoutes } from './issuer-routes';
import { credentialsRoutes } from './routes';

// Composition root: everything is built once per cold start.
const config = loadVendingConfig();
// Issuer mode (grants with via: web-identity): tokens signed with a KMS key the function may only kms:Sign with.
const { roleAssumer, issuer } = brokerRoleAssumer(config, new STSClient(sdkClientConfig(config)), systemClock);
const routes = credentialsRoutes({
  grants: config.grants,
  roleAssumer,
  leases: new DynamoLeaseStore(observeClient(new DynamoDBClient(sdkClientConfig(config)), 'DynamoDB'), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  retentionSeconds: config.leaseRetentionSeconds,
  reuse: new SessionReuse(systemClock),
  authenticator: brokerAuthenticator(config.grants, config),
  onLeaseWriteFailure: (leaseId, error) => logger.error('lease left pending after a failure', { leaseId, error: error as Error }),
});
const wellKnown = issuerRoutes({ issuer, logger });

export const handler = (event: HttpEvent, context: Parameters<typeof routes.vend>[1]) => {
  const method = 'httpMethod' in event ? event.httpMethod : event.requestContext.http.method;
  const path = 'rawPath' in event ? event.rawPath : event.path;
  // Public issuer documents (unauthenticated; see issuer-routes.ts).
  if (method === 'GET' && path === ISSUER_PATHS.openidConfiguration) return wellKnown.openidConfiguration(event);
  if (method === 'GET' && path === ISSUER_PATHS.jwks) return wellKnown.jwks(event);
  return method === 'GET' ? routes.container(event, context) : routes.vend(event, context);
};
