import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { EmfMetricPublisher } from '../../shared/adapters/emf-metric-publisher';
import { EventBridgeEventPublisher } from '../../shared/adapters/eventbridge-event-publisher';
import { logger } from '../../shared/adapters/logger';
import { S3ReportStore } from '../../shared/adapters/s3-report-store';
import { systemClock } from '../../shared/adapters/system';
import { loadConfig, loadLeaseOperationsConfig, sdkClientConfig } from '../../shared/config';
import { ConfigurationError } from '../../shared/domain/errors';
import { runAudit } from '../../shared/use-cases/run-audit';

// Composition root: everything is built once per cold start.
const config = loadConfig();
const operations = loadLeaseOperationsConfig();
if (!operations.reportBucket) throw new ConfigurationError('missing_setting', 'The environment variable NOCREDS_REPORT_BUCKET must be set for the audit function.');
const deps = {
  grants: config.grants,
  leases: new DynamoLeaseStore(new DynamoDBClient(sdkClientConfig(config)), config.tableName),
  clock: systemClock,
  reports: new S3ReportStore(new S3Client({ ...sdkClientConfig(config), forcePathStyle: Boolean(config.awsEndpoint) }), operations.reportBucket, operations.reportPrefix),
  metrics: new EmfMetricPublisher(),
  ...(operations.eventBusName ? { events: new EventBridgeEventPublisher(new EventBridgeClient(sdkClientConfig(config)), operations.eventBusName) } : {}),
};

/** Stop reading when less than this is left: the report is still written (marked truncated). */
const RESERVE_MS = 30_000;

/** Invoked by EventBridge Scheduler once a day; the event carries nothing the audit needs. */
export const handler = async (_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const { report, locations } = await runAudit(deps, { shouldStop: () => context.getRemainingTimeInMillis() < RESERVE_MS });
  logger.info('audit report written', { ...locations, totals: report.totals, truncated: report.truncated });
  return { ...locations, totals: report.totals };
};
