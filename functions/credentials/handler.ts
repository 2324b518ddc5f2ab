import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { brokerAuthenticator } from '../../shared/adapters/broker-authenticator';
import { KmsTokenSigner } from '../../shared/adapters/kms-token-signer';
import { logger } from '../../shared/adapters/logger';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ModeRoutingRoleAssumer, StsWebIdentityRoleAssumer } from '../../shared/adapters/sts-web-identity-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadConfig, sdkClientConfig } from '../../shared/config';
import type { HttpEvent } from '../../shared/http/event';
import { SessionReuse } from '../../shared/use-cases/session-reuse';
import { ISSUER_PATHS, issuerRoutes } from './issuer-routes';
import { credentialsRoutes } from './routes';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const sts = new STSClient(sdkClientConfig(config));
// Issuer mode: the broker signs its own web identity tokens with a KMS key it may only kms:Sign with.
const issuer = config.issuer && {
  settings: config.issuer,
  signer: new KmsTokenSigner(new KMSClient(sdkClientConfig(config)), { signingKeyId: config.issuer.signingKeyId, publishedKeyIds: config.issuer.publishedKeyIds }),
};
const routes = credentialsRoutes({
  grants: config.grants,
  roleAssumer: new ModeRoutingRoleAssumer(new StsRoleAssumer(sts), issuer && new StsWebIdentityRoleAssumer(sts, issuer.signer, issuer.settings, systemClock)),
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
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
