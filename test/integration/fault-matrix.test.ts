import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { randomBytes } from 'node:crypto';
import { certificatesRoutes } from '../../functions/certificates/routes';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { leasesRoutes } from '../../functions/leases/routes';
import { renewalJob } from '../../functions/renewal/job';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { IamSessionRevoker, singleAccountIamClients } from '../../shared/adapters/iam-session-revoker';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ulidGenerator } from '../../shared/adapters/system';
import { readIssuedCertificate } from '../../shared/domain/certificate';
import { iamIdentityFromArn } from '../../shared/domain/identity';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import type { Lease } from '../../shared/domain/lease';
import { PageCursors } from '../../shared/domain/page-cursor';
import { Authenticator } from '../../shared/http/authenticator';
import type { HttpResult } from '../../shared/http/event';
import { issueCertificate } from '../../shared/use-cases/issue-certificate';
import { vendCredentials } from '../../shared/use-cases/vend-credentials';
import { createActiveCa } from '../../local/moto-ca';
import { generateCsr } from '../../local/workload-csr';
import { FixedClock } from '../fakes';
import { FAULT_KINDS, FaultProxy, type Fault, type FaultKind } from '../support/fault-proxy';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoEndpoint, resetMoto } from './moto';

/**
 * The fault matrix: every flow (vend, issue, renew and revoke, for credentials and certificates),
 * with each of its AWS calls failing in turn in each way (5xx, throttling, dropped connection,
 * answer delayed past the client's timeout while the service still acts, hang), through a loopback
 * proxy in front of moto and the real SDK clients. After each cell:
 * - the caller got a success, or a 503 with Retry-After: never a 500;
 * - nothing was returned without an active lease holding it (the response against the table);
 * - after one renewal-job run with the clock past the grace period, no lease is pending, every
 *   certificate issued is held by an active lease or revoked at the CA (except one the broker never
 *   learnt the ARN of), and every STS session issued has its lease (active, revoked, or abandoned and
 *   blocked), or none at all: a vend is AssumeRole then one put, so a session whose put failed (or
 *   whose AssumeRole answer was lost) is not recorded by the request. Those sessions are the
 *   CloudTrail reconciler's (their AssumeRole events name the lease id): it records them
 *   `unrecorded` and blocks them, later. Here: never more than one per cell, never answered.
 *
 * The clients' timeouts are set here, explicitly (not the adapters' defaults): 1 s per request and
 * per connection, one attempt (so each fault meets the broker, not a retry). 300 ms made healthy
 * calls time out on a loaded 2-core machine (moto is slow under load), so the fault met the wrong
 * call; 1 s costs about a minute over the hang and delay cells.
 */
const REQUEST_TIMEOUT_MS = 1_000;
/** Longer than the request timeout: the client has given up when the service acts. */
const DELAY_MS = REQUEST_TIMEOUT_MS + 150;
const GRACE_SECONDS = 300;
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/fault-app`;
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-1`;
const CALLER = iamIdentityFromArn(CALLER_ARN);
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }] });

type FlowName = 'vend credentials' | 'issue certificate' | 'renew credentials lease' | 'renew certificate lease' | 'revoke credentials lease' | 'revoke certificate lease';

/** Each flow's AWS calls without faults, in order: the control test checks them, the matrix fails each. */
const CALLS: Record<FlowName, readonly string[]> = {
  'vend credentials': ['AssumeRole', 'PutItem'],
  'issue certificate': ['DescribeCertificateAuthority', 'PutItem', 'IssueCertificate', 'UpdateItem', 'GetCertificate', 'UpdateItem'],
  'renew credentials lease': ['GetItem', 'UpdateItem', 'AssumeRole', 'PutItem'],
  'renew certificate lease': ['GetItem', 'UpdateItem', 'DescribeCertificateAuthority', 'PutItem', 'IssueCertificate', 'UpdateItem', 'GetCertificate', 'UpdateItem', 'UpdateItem'],
  'revoke credentials lease': ['GetItem', 'GetRole', 'ListRolePolicies', 'PutRolePolicy', 'UpdateItem'],
  'revoke certificate lease': ['GetItem', 'RevokeCertificate', 'UpdateItem'],
};
const FLOWS = Object.keys(CALLS) as FlowName[];

/** One fault per cell: the n-th call of the flow, as the k-th occurrence of its operation. */
function cellsOf(flow: FlowName): Array<[string, Fault]> {
  const calls = CALLS[flow];
  return calls.flatMap((operation, index) => {
    const occurrence = calls.slice(0, index + 1).filter((c) => c === operation).length;
    return FAULT_KINDS.map((kind): [string, Fault] => [`${operation}#${occurrence} ${kind}`, { operation, occurrence, kind }]);
  });
}

let proxy: FaultProxy;
let caArn: string;
let csr: string;
let grants: ReturnType<typeof parseGrantPolicy>;
let tables = 0;
const authenticator = new Authenticator({});

/** Clients through the proxy, with explicit short timeouts and one attempt. */
function proxiedConfig() {
  return { ...awsClientConfig(), endpoint: proxy.endpoint, maxAttempts: 1, requestHandler: { connectionTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } };
}

/** A fresh table and fresh adapters (no caches carried between cells), direct and through the proxy. */
async function world() {
  const table = `faults-${++tables}`;
  const direct = awsClientConfig();
  await new DynamoDBClient(direct).send(new CreateTableCommand(createTableInput(table)));
  const clock = new FixedClock(Date.now());
  const ids = ulidGenerator();
  const build = (config: ReturnType<typeof awsClientConfig>) => ({
    leases: new DynamoLeaseStore(new DynamoDBClient(config), table),
    roleAssumer: new StsRoleAssumer(new STSClient(config)),
    ca: new PcaCertificateAuthority(new ACMPCAClient(config), clock),
    revoker: new IamSessionRevoker(singleAccountIamClients(ACCOUNT, new IAMClient(config))),
  });
  // The job's clients go through the proxy too (with no fault armed), so it sees what they revoke.
  return { table, clock, ids, direct: build(direct), proxied: build(proxiedConfig()), job: build(proxiedConfig()) };
}

type World = Awaited<ReturnType<typeof world>>;
const noSleep = async () => undefined;

/** What the caller does in each flow, through the real routes, with the proxied adapters. */
async function runFlow(flow: FlowName, w: World, leaseId: string | undefined): Promise<HttpResult> {
  const iam = { userArn: CALLER_ARN, accountId: ACCOUNT };
  const p = w.proxied;
  if (flow === 'vend credentials') {
    const routes = credentialsRoutes({ grants, roleAssumer: p.roleAssumer, leases: p.leases, clock: w.clock, ids: w.ids, authenticator });
    return routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', iam, body: { role: ROLE, durationSeconds: 900 } }), lambdaContext);
  }
  if (flow === 'issue certificate') {
    const routes = certificatesRoutes({ grants, ca: p.ca, leases: p.leases, clock: w.clock, ids: w.ids, readyWithinMs: 0, sleep: noSleep, authenticator });
    return routes.issue(httpEvent({ method: 'POST', path: '/v1/certificates', iam, body: { csr, profile: 'mesh' } }), lambdaContext);
  }
  const routes = leasesRoutes({
    grants,
    leases: p.leases,
    clock: w.clock,
    ids: w.ids,
    cursors: new PageCursors(randomBytes(32)),
    authenticator,
    credentials: { roleAssumer: p.roleAssumer },
    certificates: { ca: p.ca, readyWithinMs: 0, sleep: noSleep },
    sessionRevoker: p.revoker,
  });
  const action = flow.startsWith('renew') ? 'renew' : 'revoke';
  const event = httpEvent({ method: 'POST', path: `/v1/leases/${leaseId}/${action}`, iam, pathParameters: { id: leaseId as string } });
  return action === 'renew' ? routes.renew(event, lambdaContext) : routes.revoke(event, lambdaContext);
}

/** The lease a renew or revoke flow works on, made without faults. */
async function prepare(flow: FlowName, w: World): Promise<string | undefined> {
  const d = w.direct;
  if (flow.endsWith('credentials lease')) {
    return (await vendCredentials({ grants, roleAssumer: d.roleAssumer, leases: d.leases, clock: w.clock, ids: w.ids }, { identity: CALLER, requestId: 'setup', roleArn: ROLE, durationSeconds: 900, fresh: true })).leaseId;
  }
  if (flow.endsWith('certificate lease')) {
    const issued = await issueCertificate({ grants, ca: d.ca, leases: d.leases, clock: w.clock, ids: w.ids, readyWithinMs: 0, sleep: noSleep }, { identity: CALLER, requestId: 'setup', csr, profile: 'mesh' });
    if (issued.status !== 'issued') throw new Error('setup: the certificate was not issued');
    return issued.leaseId;
  }
  return undefined;
}

/** One run of the scheduled renewal function, with the clock past the grace period, and no faults. */
async function renewalRun(w: World) {
  w.clock.advanceSeconds(GRACE_SECONDS + 1);
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const job = renewalJob({
    grants,
    leases: w.job.leases,
    clock: w.clock,
    ids: w.ids,
    credentials: { roleAssumer: w.job.roleAssumer },
    certificates: { ca: w.job.ca, readyWithinMs: 0, sleep: noSleep },
    sessionRevoker: w.job.revoker,
    pendingGraceSeconds: GRACE_SECONDS,
    logger: silent as never,
  });
  return job({ getRemainingTimeInMillis: () => 120_000, awsRequestId: 'fault-matrix' });
}

async function leasesOf(w: World): Promise<Lease[]> {
  return (await w.direct.leases.query({ caller: CALLER.caller, limit: 100 })).leases;
}

beforeAll(async () => {
  await resetMoto();
  proxy = await FaultProxy.start(motoEndpoint(), { delayMs: DELAY_MS });
  ({ caArn } = await createActiveCa(new ACMPCAClient(awsClientConfig())));
  ({ csr } = await generateCsr({ dns: ['api.faults.internal'] }));
  await new IAMClient(awsClientConfig()).send(new CreateRoleCommand({ RoleName: 'fault-app', AssumeRolePolicyDocument: TRUST }));
  grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
      maxDurationSeconds: 3600
    certificates:
      profiles:
        - name: mesh
          caArn: ${caArn}
          maxValiditySeconds: 86400
          san: { dns: ["api.faults.internal"] }
`);
});

afterAll(async () => {
  await proxy?.stop();
});

beforeEach(() => proxy.reset());

/** Runs one cell: prepares, arms the fault, runs the flow, lets the delayed request land, runs the job. */
async function cell(flow: FlowName, fault: Fault | undefined) {
  const w = await world();
  const leaseId = await prepare(flow, w);
  proxy.reset();
  if (fault) proxy.inject(fault);
  const result = await runFlow(flow, w, leaseId);
  const seen = [...proxy.seen];
  const fired = [...proxy.fired];
  proxy.disarm();
  await proxy.idle();
  const beforeJob = await leasesOf(w);
  const summary = await renewalRun(w);
  const after = await leasesOf(w);
  const sent = (operation: string, param: string) => proxy.forwarded.filter((r) => r.operation === operation).map((r) => String(r.params[param]));
  return {
    w,
    result,
    body: parse(result),
    seen,
    fired,
    prepared: leaseId,
    beforeJob,
    after,
    summary,
    // What reached moto from the flow (a delayed request included) and the job: the sessions STS
    // issued (named by lease id), the certificates PCA issued, and the serials revoked at the CA.
    newSessions: sent('AssumeRole', 'RoleSessionName'),
    issuedByFlow: sent('IssueCertificate', 'IdempotencyToken').length,
    revokedSerials: sent('RevokeCertificate', 'CertificateSerial'),
  };
}

type Cell = Awaited<ReturnType<typeof cell>>;

/** The invariants every cell must keep, whatever failed. */
function expectSettled(c: Cell, kind: FaultKind | undefined) {
  const { result, body } = c;
  // 1. A success, or a 503 with Retry-After; never a 500.
  expect([200, 201, 202, 503]).toContain(result.statusCode);
  if (result.statusCode === 503) {
    expect(result.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(Object.keys(body)).toEqual(['error']);
    expect(result.body).not.toMatch(/secretAccessKey|sessionToken|BEGIN CERTIFICATE/);
  }
  // 2. Nothing returned without an active lease holding it (as the lease table said before the job ran).
  const byId = new Map(c.beforeJob.map((l) => [l.leaseId, l]));
  if (body.accessKeyId) expect(byId.get(body.leaseId)).toMatchObject({ status: 'active', accessKeyId: body.accessKeyId });
  if (body.certificate) {
    expect(byId.get(body.leaseId)).toMatchObject({ status: 'active', serialNumber: readIssuedCertificate(body.certificate).serialNumber });
  }
  if (body.lease?.status === 'revoked') expect(byId.get(body.lease.leaseId)?.status).toBe('revoked');
  // 3. After one run of the job, nothing is pending.
  expect(c.after.filter((l) => l.status === 'pending')).toEqual([]);
  // 4. Every STS session issued has its lease, active or blocked, and none is held by a failed lease;
  //    or it has no lease at all (its put failed, or STS's answer was lost): left to the CloudTrail
  //    reconciler, at most one per cell, and never handed to the caller (2 and 1 above).
  const settled = new Map(c.after.map((l) => [l.leaseId, l]));
  const unrecorded = c.newSessions.filter((session) => !settled.has(session));
  expect(unrecorded.length).toBeLessThanOrEqual(1);
  if (unrecorded.length > 0) expect(result.statusCode).toBe(503);
  for (const session of c.newSessions.filter((s) => settled.has(s))) {
    const lease = settled.get(session);
    expect({ session, status: lease?.status }).toEqual({ session, status: expect.stringMatching(/^(active|revoked|abandoned)$/) });
    if (lease?.status === 'abandoned') expect(lease.revocationMethod).toMatch(/^(session-deny|token-issue-time-cutoff)$/);
  }
  // 5. Every certificate issued is held by an active lease or revoked at the CA. The one exception is
  //    an IssueCertificate whose answer never arrived while PCA still issued (`delay`): the broker never
  //    learnt its ARN, and the abandoned lease says so.
  const certificateLeases = c.after.filter((l) => l.certificateArn);
  for (const lease of certificateLeases) {
    if (lease.status === 'active') continue;
    expect({ leaseId: lease.leaseId, status: lease.status, revokedAt: lease.revokedAt }).toEqual({ leaseId: lease.leaseId, status: expect.stringMatching(/^(revoked|abandoned)$/), revokedAt: expect.any(String) });
    expect(c.revokedSerials).toContain(lease.serialNumber);
  }
  const unknown = c.after.filter((l) => l.kind === 'certificate' && l.status === 'abandoned' && !l.certificateArn);
  for (const lease of unknown) expect(lease.failureReason).toContain('No certificate ARN was recorded');
  const recordedByFlow = certificateLeases.filter((l) => l.leaseId !== c.prepared).length;
  const lateIssue = kind === 'delay' && c.fired[0]?.operation === 'IssueCertificate';
  expect(c.issuedByFlow - recordedByFlow).toBe(lateIssue ? 1 : 0);
}

describe.each(FLOWS)('%s', (flow) => {
  test('control: with no fault it succeeds, making exactly the calls the matrix fails one by one', async () => {
    const c = await cell(flow, undefined);
    expect(c.seen).toEqual(CALLS[flow]);
    expect(c.result.statusCode).toBe(flow.startsWith('revoke') ? 200 : 201);
    expectSettled(c, undefined);
    expect(c.summary.abandoned).toBe(0);
  });

  test.each(cellsOf(flow))('%s', async (_name, fault) => {
    const c = await cell(flow, fault);
    // The fault met the broker (the flow reached that call).
    expect(c.fired).toEqual([fault]);
    expect(c.result.statusCode).toBe(503);
    expectSettled(c, fault.kind);
  });
});
