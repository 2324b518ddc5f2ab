import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { EmfMetricPublisher } from '../../shared/adapters/emf-metric-publisher';
import { EventBridgeEventPublisher } from '../../shared/adapters/eventbridge-event-publisher';
import { S3ReportStore } from '../../shared/adapters/s3-report-store';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { AUDIT_COMPLETED, AUDIT_FINDING, runAudit } from '../../shared/use-cases/run-audit';
import { FixedClock } from '../fakes';
import { captureEvents } from '../support/event-capture';
import { auditGrants, auditLeases, NOW } from '../unit/shared/use-cases/audit-fixture';
import { awsClientConfig, motoEndpoint, resetMoto } from './moto';

const BUCKET = 'nocreds-audit';
let s3: S3Client;
let leases: DynamoLeaseStore;
let events: Awaited<ReturnType<typeof captureEvents>>;

beforeAll(async () => {
  await resetMoto();
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('leases')));
  leases = new DynamoLeaseStore(dynamo, 'leases');
  s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  events = await captureEvents(motoEndpoint(), awsClientConfig(), 'nocreds');
});

async function object(key: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { body: await out.Body?.transformToString(), contentType: out.ContentType, cacheControl: out.CacheControl };
}

test('reads the lease table, writes JSON and HTML reports to S3, emits EMF metrics and publishes the findings to EventBridge', async () => {
  const fixtures = auditLeases();
  for (const lease of Object.values(fixtures)) await leases.create(lease);
  const lines: string[] = [];

  const { report, locations } = await runAudit({
    grants: parseGrantPolicy(auditGrants),
    leases,
    clock: new FixedClock(NOW),
    reports: new S3ReportStore(s3, BUCKET, 'audit/'),
    metrics: new EmfMetricPublisher((line) => lines.push(line)),
    events: new EventBridgeEventPublisher(new EventBridgeClient(awsClientConfig()), 'nocreds'),
  });

  // The same findings as against the in-memory store: the due index's shards serve the audit's reads
  // (active credentials leases are not in it: roleNoLongerGranted is not read).
  expect(report.findings.noLongerAllowed.map((l) => l.leaseId)).toEqual([fixtures.profileNoLongerGranted.leaseId]);
  expect(report.findings.stuckPending.map((l) => l.leaseId)).toEqual([fixtures.stuckPending.leaseId]);
  expect(report.findings.revokedNotExpired.map((l) => l.leaseId)).toEqual([fixtures.revokedStillValid.leaseId]);
  expect(report.findings.failed.map((l) => l.leaseId)).toEqual([fixtures.failed.leaseId]);
  expect(report.findings.expiringSoon.map((l) => l.leaseId)).toEqual([fixtures.expiringCertificate.leaseId]);
  expect(report.totals.active).toBe(5);

  expect(locations).toEqual({ json: `s3://${BUCKET}/audit/2030-01-15/report.json`, html: `s3://${BUCKET}/audit/2030-01-15/report.html` });
  const json = await object('audit/2030-01-15/report.json');
  expect(json.contentType).toBe('application/json');
  expect(JSON.parse(json.body as string)).toEqual(report);
  const html = await object('audit/latest/report.html');
  expect(html.contentType).toBe('text/html; charset=utf-8');
  expect(html.cacheControl).toBe('no-store');
  expect(html.body).toContain(`>${fixtures.profileNoLongerGranted.leaseId}</code>`);

  expect(lines).toHaveLength(1);
  const emf = JSON.parse(lines[0] as string);
  expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('nocreds');
  expect(emf).toMatchObject({ LeasesNoLongerAllowed: 1, LeasesStuckPending: 1, ActiveLeases: 5 });

  const delivered = await events.received();
  expect(delivered.filter((e) => e['detail-type'] === AUDIT_FINDING).map((e) => e.detail.finding).sort()).toEqual([
    'certificate_expiring_without_renewal',
    'failed',
    'no_longer_allowed',
    'not_recheckable',
    'revoked_not_expired',
    'stuck_pending',
  ]);
  expect(delivered.find((e) => e['detail-type'] === AUDIT_COMPLETED)?.detail).toMatchObject({ report: locations.json, html: locations.html, totals: { active: 5 } });
});
