import { ACMPCAClient, ACMPCAServiceException } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { STSClient } from '@aws-sdk/client-sts';
import { X509Certificate } from 'node:crypto';
import { RENEWAL_JOB, RESERVE_MS, renewalJob } from '../../functions/renewal/job';
import { dueShard } from '../../shared/adapters/dynamo-lease-table';
import { isInForce, pendingLease } from '../../shared/domain/lease';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { EventBridgeEventPublisher } from '../../shared/adapters/eventbridge-event-publisher';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { issueCertificate } from '../../shared/use-cases/issue-certificate';
import { CERTIFICATE_RENEWED, renewLeases, type RenewLeasesDeps } from '../../shared/use-cases/renew-leases';
import { vendCredentials } from '../../shared/use-cases/vend-credentials';
import { createActiveCa } from '../../local/moto-ca';
import { generateCsr } from '../../local/workload-csr';
import { FixedClock, oidcIdentity } from '../fakes';
import { captureEvents } from '../support/event-capture';
import { awsClientConfig, motoData, motoEndpoint, resetMoto } from './moto';

const ACCOUNT = '123456789012';
const DAY = 24 * 3600;
const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }, 'dev');
let grants: ReturnType<typeof parseGrantPolicy>;
let clock: FixedClock;
let events: Awaited<ReturnType<typeof captureEvents>>;

/** Lets a test fail the next GetCertificate, as a PCA hiccup right after IssueCertificate would. */
function pcaWithFaults() {
  const client = new ACMPCAClient(awsClientConfig());
  const faults: string[] = [];
  (client.middlewareStack as unknown as { add(mw: unknown, options: unknown): void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const index = faults.indexOf(String(context.commandName));
      if (index >= 0) {
        faults.splice(index, 1);
        throw new ACMPCAServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'faultInjection' },
  );
  return { client, failNext: (command: string) => faults.push(command) };
}

/** What one Lambda instance of the renewal function would build: its own clients and store. */
function instance(pca: ACMPCAClient = new ACMPCAClient(awsClientConfig())): RenewLeasesDeps {
  return {
    grants,
    leases: new DynamoLeaseStore(new DynamoDBClient(awsClientConfig()), 'leases'),
    clock,
    ids: ulidGenerator(),
    credentials: { roleAssumer: new StsRoleAssumer(new STSClient(awsClientConfig())) },
    certificates: { ca: new PcaCertificateAuthority(pca, clock), readyWithinMs: 5_000 },
    events: new EventBridgeEventPublisher(new EventBridgeClient(awsClientConfig()), 'nocreds'),
  };
}

async function issue(deps: RenewLeasesDeps) {
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  return issueCertificate({ ...deps, ...deps.certificates!, readyWithinMs: 5_000 }, { identity, requestId: 'r', csr, profile: 'mesh' });
}

beforeAll(async () => {
  await resetMoto();
  const { caArn } = await createActiveCa(new ACMPCAClient(awsClientConfig()));
  grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: dev, url: "https://issuer.example", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-app"]
    certificates:
      profiles:
        - name: mesh
          caArn: ${caArn}
          maxValiditySeconds: 86400
          autoRenew: true
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
`);
  await new DynamoDBClient(awsClientConfig()).send(new CreateTableCommand(createTableInput('leases')));
  events = await captureEvents(motoEndpoint(), awsClientConfig(), 'nocreds');
});

beforeEach(() => {
  clock = new FixedClock(Date.now());
});

test('two renewal runs at once (two Lambda instances) re-issue each certificate in its renewal window exactly once', async () => {
  const setup = instance();
  const originals = [await issue(setup), await issue(setup), await issue(setup)];
  expect(originals.every((o) => o.status === 'issued')).toBe(true);
  await events.received();

  // moto signs for 365 days whatever is asked: the last third starts after about 243 days.
  clock.advanceSeconds(200 * DAY);
  expect((await renewLeases(instance())).renewed).toEqual([]);
  clock.advanceSeconds(50 * DAY);

  const [a, b] = await Promise.all([renewLeases(instance(), { runId: 'a' }), renewLeases(instance(), { runId: 'b' })]);
  const renewed = [...a.renewed, ...b.renewed];
  expect(renewed.map((r) => r.from).sort()).toEqual(originals.map((o) => o.leaseId).sort());
  expect([...a.skipped, ...b.skipped].every((s) => s.reason === 'already_renewed')).toBe(true);

  const store = setup.leases;
  for (const original of originals) {
    const before = await store.get(original.leaseId);
    expect(before?.renewedBy).toEqual(expect.any(String));
    const successor = await store.get(before?.renewedBy as string);
    expect(successor).toMatchObject({ status: 'active', renewedFrom: original.leaseId, kind: 'certificate', profile: 'mesh' });
  }
  const certificateLeases = (await store.query({ caller: identity.caller, kind: 'certificate', limit: 100 })).leases;
  expect(certificateLeases).toHaveLength(6);

  const delivered = await events.received();
  expect(delivered.map((e) => e['detail-type'])).toEqual([CERTIFICATE_RENEWED, CERTIFICATE_RENEWED, CERTIFICATE_RENEWED]);
  for (const event of delivered) {
    const lease = await store.get(String(event.detail.leaseId));
    expect(event).toMatchObject({
      source: 'nocreds',
      resources: [lease?.certificateArn],
      detail: { renewedFrom: lease?.renewedFrom, caller: identity.caller, profile: 'mesh', status: 'issued', serialNumber: lease?.serialNumber, location: `/v1/leases/${lease?.leaseId}` },
    });
  }

  // The new certificate is for the same key as the old.
  const [first] = originals;
  if (first?.status !== 'issued') throw new Error('expected issued');
  const successorId = (await store.get(first.leaseId))?.renewedBy as string;
  const { PcaCertificateAuthority: Pca } = await import('../../shared/adapters/pca-certificate-authority');
  const successor = await store.get(successorId);
  const fetched = await new Pca(new ACMPCAClient(awsClientConfig()), clock).get(successor?.caArn as string, successor?.certificateArn as string);
  if (fetched.status !== 'issued') throw new Error('expected issued');
  expect(new X509Certificate(fetched.certificate).publicKey.export({ type: 'spki', format: 'der' })).toEqual(
    new X509Certificate(first.certificate).publicKey.export({ type: 'spki', format: 'der' }),
  );

  // A third run finds nothing more to renew.
  expect((await renewLeases(instance())).renewed).toEqual([]);
});

test('revokes a certificate whose caller got an error after IssueCertificate (GetCertificate failed), rather than activating it', async () => {
  const pca = pcaWithFaults();
  const deps = instance(pca.client);
  pca.failNext('GetCertificateCommand');
  await expect(issue(deps)).rejects.toMatchObject({ code: 'pca_throttled' });
  const pending = (await deps.leases.query({ caller: identity.caller, status: 'pending', kind: 'certificate', limit: 10 })).leases;
  expect(pending).toHaveLength(1);
  expect(pending[0]?.certificateArn).toEqual(expect.stringContaining('arn:aws:acm-pca'));

  // Within the grace period the request might still be running: left alone.
  expect((await renewLeases(instance())).abandoned).toEqual([]);
  clock.advanceSeconds(301);
  const run = await renewLeases(instance());
  expect(run.activated).toEqual([]);
  expect(run.abandoned).toEqual([{ leaseId: pending[0]?.leaseId, kind: 'certificate', action: 'certificate-revoked' }]);
  const settled = await deps.leases.get(pending[0]?.leaseId as string);
  expect(settled).toMatchObject({ status: 'abandoned', serialNumber: expect.any(String), revokeReason: 'CESSATION_OF_OPERATION' });
  // The CA has it revoked (moto records the serial and reason it was sent).
  const data = (await motoData()) as { acmpca?: { CertificateAuthority?: Array<{ revoked_certificates?: Record<string, { revocation_reason: string }> }> } };
  const revoked = Object.assign({}, ...(data.acmpca?.CertificateAuthority ?? []).map((ca) => ca.revoked_certificates ?? {}));
  expect(revoked[settled?.serialNumber as string]).toMatchObject({ revocation_reason: 'CESSATION_OF_OPERATION' });
});

test('credentials leases need no write at expiry: the job reads none of them', async () => {
  const deps = instance();
  const vended: string[] = [];
  for (let i = 0; i < 3; i++) {
    vended.push((await vendCredentials({ ...deps, roleAssumer: deps.credentials!.roleAssumer }, { identity, requestId: 'r', roleArn: `arn:aws:iam::${ACCOUNT}:role/team-a-app`, durationSeconds: 900, fresh: true })).leaseId);
  }
  clock.advanceSeconds(901);
  const run = await renewLeases(instance());
  expect(run.examined).toBe(0);
  for (const id of vended) {
    const lease = await deps.leases.get(id);
    expect(lease?.status).toBe('active');
    expect(isInForce(lease!, clock.now())).toBe(false);
  }
});

test('the scheduled function pages through every shard, stops before the Lambda timeout, saves where it stood in the table, and the next run resumes there', async () => {
  const deps = instance();
  // Certificate leases left pending with no certificate ARN, past the grace period: each is settled.
  const ids: string[] = [];
  const idGen = ulidGenerator();
  for (let i = 0; i < 60; i++) {
    const lease = pendingLease({ leaseId: idGen.next(), kind: 'certificate', caller: 'dev:shards', ruleId: 'team-apps', requestId: 'r', now: clock.now(), expiresAt: new Date(clock.now().getTime() + DAY * 1000), profile: 'mesh', caArn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000' });
    await deps.leases.create(lease);
    ids.push(lease.leaseId);
  }
  expect(new Set(ids.map(dueShard)).size).toBeGreaterThan(8);
  clock.advanceSeconds(301);
  const logged: string[] = [];
  const logger = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) } as never;
  // Pages of 2: more leases than a page in most shards. The time left drops 1 s each time it is asked.
  let remaining = RESERVE_MS + 8_000;
  const job = renewalJob({ ...deps, logger, pageSize: 2, concurrency: 3 });
  const first = await job({ getRemainingTimeInMillis: () => (remaining -= 1_000), awsRequestId: 'req-1' });
  expect(first).toMatchObject({ incomplete: true, resumed: false, failed: 0 });
  expect(first.examined).toBeGreaterThan(0);
  expect(first.examined).toBeLessThan(60);
  // The state is in the lease table, not in memory: a new instance (another Lambda) resumes from it.
  expect(await instance().leases.loadJobState(RENEWAL_JOB)).toMatchObject({ phase: 'pending', shards: expect.any(Object) });

  const second = await renewalJob({ ...instance(), logger, pageSize: 2, concurrency: 3 })({ getRemainingTimeInMillis: () => 240_000, awsRequestId: 'req-2' });
  expect(second).toMatchObject({ incomplete: false, resumed: true, failed: 0 });
  expect(first.examined + second.examined).toBe(60);
  for (const id of ids) expect((await deps.leases.get(id))?.status).toBe('abandoned');
  expect(await deps.leases.loadJobState(RENEWAL_JOB)).toBeUndefined();
  expect(logged).toContain('renewal run finished');

  // Idempotent: a third run finds nothing pending.
  expect(await renewalJob({ ...instance(), logger })({ getRemainingTimeInMillis: () => 240_000, awsRequestId: 'req-3' })).toMatchObject({ abandoned: 0, resumed: false });
});
