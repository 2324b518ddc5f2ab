import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import type { SQSEvent } from 'aws-lambda';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { IamSessionRevoker, revokerRoleIamClients } from '../../shared/adapters/iam-session-revoker';
import { logger } from '../../shared/adapters/logger';
import { systemClock } from '../../shared/adapters/system';
import { loadConfig, loadReconcilerConfig, sdkClientConfig } from '../../shared/config';
import { brokeredRoleMatcher } from '../../shared/domain/cloudtrail-session';
import { reconcilerBatch } from './batch';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const reconciler = loadReconcilerConfig();
const batch = reconcilerBatch({
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
  clock: systemClock,
  broker: { roleArns: reconciler.brokerRoleArns, webIdentityProviders: reconciler.webIdentityProviders },
  isBrokeredRole: brokeredRoleMatcher(config.grants),
  graceSeconds: reconciler.graceSeconds,
  retentionSeconds: config.leaseRetentionSeconds,
  revokeOutsideSessions: reconciler.revokeOutsideSessions,
  // Deny policies are written in the role's own account, through the revoker role there.
  ...(reconciler.revocationEnabled
    ? {
        sessionRevoker: new IamSessionRevoker(
          revokerRoleIamClients({ sts: new STSClient(sdkClientConfig(config)), iamConfig: sdkClientConfig(config), ...(reconciler.revokerRoleName ? { roleName: reconciler.revokerRoleName } : {}) }),
          { policyPrefix: reconciler.revocationPolicyPrefix },
        ),
      }
    : {}),
  logger,
});

/** Invoked by the SQS event source (partial batch responses on): CloudTrail AssumeRole events, after the queue's delay. */
export const handler = (event: SQSEvent) => batch(event);
