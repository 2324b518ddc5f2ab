import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { logger } from '../../shared/adapters/logger';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { observeClient } from '../../shared/adapters/telemetry';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadConfig, sdkClientConfig } from '../../shared/config';
import type { HttpEvent } from '../../shared/http/event';
import { SessionReuse } from '../../shared/use-cases/session-reuse';
import { credentialsRoutes } from './routes';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const routes = credentialsRoutes({
  grants: config.grants,
  roleAssumer: new StsRoleAssumer(observeClient(new STSClient(sdkClientConfig(config)), 'STS')),
  leases: new DynamoLeaseStore(observeClient(new DynamoDBClient(sdkClientConfig(config)), 'DynamoDB'), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  retentionSeconds: config.leaseRetentionSeconds,
  reuse: new SessionReuse(systemClock),
  authenticator: brokerAuthenticator(config.grants, config),
  onLeaseWriteFailure: (leaseId, error) => logger.error('lease left pending after a failure', { leaseId, error: error as Error }),
});

export const handler = (event: HttpEvent, context: Parameters<typeof routes.vend>[1]) => {
  const method = 'httpMethod' in event ? event.httpMethod : event.requestContext.http.method;
  return method === 'GET' ? routes.container(event, context) : routes.vend(event, context);
};
