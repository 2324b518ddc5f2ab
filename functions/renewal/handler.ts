import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { EventBridgeEventPublisher } from '../../shared/adapters/eventbridge-event-publisher';
import { IamSessionRevoker } from '../../shared/adapters/iam-session-revoker';
import { logger } from '../../shared/adapters/logger';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadConfig, loadLeaseOperationsConfig, sdkClientConfig } from '../../shared/config';
import { renewalJob } from './job';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const operations = loadLeaseOperationsConfig();
const onLeaseWriteFailure = (leaseId: string, error: unknown) => logger.error('lease write failed during renewal', { leaseId, error: error as Error });
const job = renewalJob({
  grants: config.grants,
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  // A renewal that PCA has not finished within a few seconds is collected by the next run.
  certificates: { ca: new PcaCertificateAuthority(new ACMPCAClient(sdkClientConfig(config)), systemClock), retentionSeconds: config.leaseRetentionSeconds, readyWithinMs: 5_000, onLeaseWriteFailure },
  pendingGraceSeconds: operations.pendingGraceSeconds,
  ...(operations.revocationEnabled ? { sessionRevoker: new IamSessionRevoker(new IAMClient(sdkClientConfig(config)), { policyPrefix: operations.revocationPolicyPrefix }) } : {}),
  ...(operations.eventBusName ? { events: new EventBridgeEventPublisher(new EventBridgeClient(sdkClientConfig(config)), operations.eventBusName) } : {}),
  logger,
});

/** Invoked by EventBridge Scheduler every few minutes; the event carries nothing the job needs. */
export const handler = (_event: unknown, context: Context) => job(context);
