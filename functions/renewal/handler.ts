import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { EventBridgeEventPublisher } from '../../shared/adapters/eventbridge-event-publisher';
import { IamSessionRevoker, revokerRoleIamClients } from '../../shared/adapters/iam-session-revoker';
import { logger } from '../../shared/adapters/logger';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { loadConfig, loadLeaseOperationsConfig, sdkClientConfig } from '../../shared/config';
import { longestSessionSeconds } from '../../shared/domain/grant-policy';
import { renewalJob } from './job';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const operations = loadLeaseOperationsConfig();
const sts = new STSClient(sdkClientConfig(config));
const onLeaseWriteFailure = (leaseId: string, error: unknown) => logger.error('lease write failed during renewal', { leaseId, error: error as Error });
const job = renewalJob({
  grants: config.grants,
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
  clock: systemClock,
  ids: ulidGenerator(),
  // A renewal that PCA has not finished within a few seconds is collected by the next run.
  certificates: { ca: new PcaCertificateAuthority(new ACMPCAClient(sdkClientConfig(config)), systemClock), retentionSeconds: config.leaseRetentionSeconds, readyWithinMs: 5_000, onLeaseWriteFailure },
  pendingGraceSeconds: operations.pendingGraceSeconds,
  ...(operations.revocationEnabled ? { sessionRevoker: sessionRevoker() } : {}),
  ...(operations.eventBusName ? { events: new EventBridgeEventPublisher(new EventBridgeClient(sdkClientConfig(config)), operations.eventBusName) } : {}),
  logger,
});

/** Invoked by EventBridge Scheduler every few minutes; the event carries nothing the job needs. */
export const handler = (_event: unknown, context: Context) => job(context);

/**
 * Deny policies are written in the role's own account, through the revoker role there (never with
 * the broker's own IAM client, which would write on a same-named role in the broker's account).
 */
function sessionRevoker(): IamSessionRevoker {
  const clients = revokerRoleIamClients({ sts, iamConfig: sdkClientConfig(config), ...(operations.revokerRoleName ? { roleName: operations.revokerRoleName } : {}) });
  // Cut-offs outlive the longest session any rule vends (issuer mode: up to 12 h, not 1 h).
  return new IamSessionRevoker(clients, { policyPrefix: operations.revocationPolicyPrefix, maxSessionSeconds: longestSessionSeconds(config.grants) });
}
