import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { logger } from '../../shared/adapters/logger';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { observeClient } from '../../shared/adapters/telemetry';
import { loadConfig, sdkClientConfig } from '../../shared/config';
import { NotFoundError } from '../../shared/domain/errors';
import { errorResponse } from '../../shared/http/errors';
import { requestIdOf, type HttpEvent } from '../../shared/http/event';
import { certificatesRoutes, routeOf } from './routes';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const routes = certificatesRoutes({
  grants: config.grants,
  ca: new PcaCertificateAuthority(observeClient(new ACMPCAClient(sdkClientConfig(config)), 'PCA'), systemClock),
  leases: new DynamoLeaseStore(observeClient(new DynamoDBClient(sdkClientConfig(config)), 'DynamoDB'), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  retentionSeconds: config.leaseRetentionSeconds,
  authenticator: brokerAuthenticator(config.grants, config),
  onLeaseWriteFailure: (leaseId, error) => logger.error('certificate lease left pending after a failure', { leaseId, error: error as Error }),
});

/** One function serves POST /v1/certificates and GET /v1/trust-bundle. */
export const handler = async (event: HttpEvent, context: Context) => {
  const route = routeOf(event);
  if (!route) return errorResponse(new NotFoundError('route_not_found', 'No such certificates route.'), requestIdOf(event));
  return routes[route](event, context);
};
