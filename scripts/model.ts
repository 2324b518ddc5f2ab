import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_FUNCTIONS } from '../infra/broker-function';
import { generateCsr } from '../local/workload-csr';
import { leaseItem, LEASE_TABLE, type LeaseIndex } from '../shared/adapters/dynamo-lease-table';
import { AccessDeniedError } from '../shared/domain/errors';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';
import type { GrantPolicy } from '../shared/domain/grant-policy';
import type { OidcIdentity } from '../shared/domain/identity';
import { LEASE_STATUSES, type Lease, type LeaseStatus } from '../shared/domain/lease';
import type { LeaseChanges, LeaseCondition } from '../shared/ports';
import { issueCertificate } from '../shared/use-cases/issue-certificate';
import { vendCredentials } from '../shared/use-cases/vend-credentials';
import { FakeCertificateAuthority, FixedClock, InMemoryLeaseStore, RecordingRoleAssumer, SequentialIds } from '../test/fakes';
import { ASSUMPTIONS, PRICES, TARGETS } from './model-prices';

/**
 * `npm run model`: what a vend and a certificate cost in DynamoDB capacity and dollars, and how far
 * each partition of the lease table scales, computed from the items the code really writes.
 *
 * The leases are made by the real use cases (vendCredentials, issueCertificate) over the in-memory
 * fakes of the ports; a recording store keeps every write (the lease before and after), and each is
 * turned into its DynamoDB item by `leaseItem` and costed against the table description
 * `LEASE_TABLE`, the same two things the DynamoDB store and the CDK table read. Change the item or
 * the indexes and these figures change. Prices and assumptions: scripts/model-prices.ts.
 */

type Item = Record<string, AttributeValue>;

// ---------------------------------------------------------------------------------------------
// DynamoDB sizing and capacity rules.

/** DynamoDB's size of a value: strings in UTF-8, numbers about one byte per two digits plus one, maps and lists 3 plus their entries. */
export function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\./g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.M) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v) + 1, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + valueSize(v) + 1, 0);
  if (value.SS) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  return 1;
}

/** An item's size: its attribute names plus their values. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

const KB = 1024;
const units = (bytes: number, per: number) => Math.max(1, Math.ceil(bytes / per));

/** The attributes an index entry holds, or undefined when the item is not in the index (sparse: a key attribute is missing). */
export function indexEntry(index: LeaseIndex, item: Item): Item | undefined {
  if (!item[index.partitionKey] || (index.sortKey && !item[index.sortKey])) return undefined;
  const names = [LEASE_TABLE.partitionKey, index.partitionKey, ...(index.sortKey ? [index.sortKey] : []), ...(index.projection.type === 'INCLUDE' ? index.projection.attributes : [])];
  return Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name] as AttributeValue]));
}

/** The size DynamoDB charges for an index entry: its attributes plus the per-entry overhead. */
export function indexEntrySize(entry: Item): number {
  return itemSize(entry) + ASSUMPTIONS.indexEntryOverheadBytes;
}

export interface WriteUnits {
  readonly table: number;
  /** Write units per index (0: the write did not touch it). */
  readonly indexes: Readonly<Record<string, number>>;
  readonly total: number;
}

const same = (a: Item, b: Item) => JSON.stringify(Object.entries(a).sort(([x], [y]) => x.localeCompare(y))) === JSON.stringify(Object.entries(b).sort(([x], [y]) => x.localeCompare(y)));

/**
 * The write units of one write that turns item `before` (absent for a put of a new item) into
 * `after`: 1 per started KB of the larger of the two in the table, and in each index the entry
 * written (a new entry: its size; an entry whose index key changes: a delete and a put; an entry
 * whose projected attributes change: an update; unchanged or absent on both sides: nothing).
 */
export function writeUnits(before: Item | undefined, after: Item, indexes: readonly LeaseIndex[] = LEASE_TABLE.indexes): WriteUnits {
  const table = units(Math.max(before ? itemSize(before) : 0, itemSize(after)), KB);
  const perIndex: Record<string, number> = {};
  for (const index of indexes) {
    const old = before ? indexEntry(index, before) : undefined;
    const now = indexEntry(index, after);
    const keyOf = (entry: Item) => JSON.stringify([entry[index.partitionKey], index.sortKey ? entry[index.sortKey] : undefined]);
    let n = 0;
    if (old && now) {
      if (keyOf(old) !== keyOf(now)) n = units(indexEntrySize(old), KB) + units(indexEntrySize(now), KB);
      else if (!same(old, now)) n = units(Math.max(indexEntrySize(old), indexEntrySize(now)), KB);
    } else if (now) n = units(indexEntrySize(now), KB);
    else if (old) n = units(indexEntrySize(old), KB);
    perIndex[index.name] = n;
  }
  return { table, indexes: perIndex, total: table + Object.values(perIndex).reduce((a, b) => a + b, 0) };
}

/** Sums the write units of several writes (a certificate's pending put and its updates). */
export function sumWriteUnits(writes: readonly WriteUnits[]): WriteUnits {
  const indexes: Record<string, number> = {};
  for (const w of writes) for (const [name, n] of Object.entries(w.indexes)) indexes[name] = (indexes[name] ?? 0) + n;
  const table = writes.reduce((n, w) => n + w.table, 0);
  return { table, indexes, total: writes.reduce((n, w) => n + w.total, 0) };
}

// ---------------------------------------------------------------------------------------------
// Leases made by the real use cases.

/** The in-memory store, keeping the lease before and after each write the use case made. */
class RecordingLeaseStore extends InMemoryLeaseStore {
  readonly writes: Array<{ before?: Lease; after: Lease }> = [];

  override async create(lease: Lease): Promise<void> {
    await super.create(lease);
    this.writes.push({ after: lease });
  }

  override async update(leaseId: string, expectedStatus: LeaseStatus, changes: LeaseChanges, condition?: LeaseCondition): Promise<Lease> {
    const before = await super.get(leaseId);
    const after = await super.update(leaseId, expectedStatus, changes, condition);
    this.writes.push({ before, after });
    return after;
  }
}

/** The DynamoDB items of every write the use case made: [before, after]. */
export type RecordedWrites = ReadonlyArray<{ readonly before?: Item; readonly after: Item }>;

const itemsOf = (store: RecordingLeaseStore): RecordedWrites => store.writes.map(({ before, after }) => ({ ...(before ? { before: leaseItem(before) } : {}), after: leaseItem(after) }));

const ROOT = join(__dirname, '..');
const NOW = '2030-01-01T00:00:00Z';
const TOKEN_TIMES = { exp: '1893459600', iat: '1893456000', nbf: '1893456000', jti: '5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b' };

function oidc(issuerId: string, issuer: string, subject: string, claims: Record<string, string>): OidcIdentity {
  // What the authenticator builds: every string claim of the token, plus the preset's and `issuer`.
  return { kind: 'oidc', issuerId, issuer, subject, caller: `${issuerId}:${subject}`, attributes: { iss: issuer, sub: subject, aud: 'nocreds', ...TOKEN_TIMES, ...claims, issuer: issuerId } };
}

export interface Shape {
  readonly name: string;
  readonly grants: GrantPolicy;
  readonly identity: OidcIdentity;
  readonly roleArn: string;
  /** A certificate profile this identity may use, and the DNS name its CSR asks for. */
  readonly certificate?: { readonly profile: string; readonly dns: string };
}

const DEV_ISSUER_URL = 'http://127.0.0.1:43617';
const exampleGrants = () => parseGrantPolicy(readFileSync(join(ROOT, 'infra', 'example-grants.yaml'), 'utf8'));

/** The three identity shapes: the local development issuer, an EKS service account, a GitHub Actions job (claims as those issuers mint them). */
export function shapes(): Shape[] {
  const localGrants = parseGrantPolicy(
    readFileSync(join(ROOT, 'local', 'grants.yaml'), 'utf8').replaceAll('@DEV_ISSUER_URL@', DEV_ISSUER_URL).replaceAll('@CA_ARN@', 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555'),
  );
  return [
    {
      name: 'local dev issuer',
      grants: localGrants,
      identity: oidc('dev', DEV_ISSUER_URL, 'system:serviceaccount:team-a:api', { namespace: 'team-a', serviceaccount: 'api' }),
      roleArn: 'arn:aws:iam::123456789012:role/team-a-app',
    },
    {
      name: 'EKS service account',
      grants: exampleGrants(),
      identity: oidc('prod-cluster', 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', 'system:serviceaccount:team-payments:checkout-api', {
        namespace: 'team-payments',
        serviceaccount: 'checkout-api',
        pod: 'checkout-api-7d9f8c6b5-x2k4p',
        'pod-uid': '8d3c2a1b-4f5e-6a7b-8c9d-0e1f2a3b4c5d',
        'serviceaccount-uid': '1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d',
      }),
      roleArn: 'arn:aws:iam::111122223333:role/nocreds/team-payments-app',
      certificate: { profile: 'mesh', dns: 'checkout-api.team-payments.svc' },
    },
    {
      name: 'GitHub Actions job',
      grants: exampleGrants(),
      identity: oidc('github', 'https://token.actions.githubusercontent.com', 'repo:example-org/app:ref:refs/heads/main', {
        ref: 'refs/heads/main', sha: 'a'.repeat(40), repository: 'example-org/app', repository_owner: 'example-org', repository_owner_id: '123456789',
        run_id: '9876543210', run_number: '4321', run_attempt: '1', repository_visibility: 'private', repository_id: '987654321', actor_id: '1234567', actor: 'octocat',
        workflow: 'Deploy', event_name: 'push', ref_type: 'branch', ref_protected: 'true', workflow_ref: 'example-org/app/.github/workflows/deploy.yml@refs/heads/main',
        workflow_sha: 'b'.repeat(40), job_workflow_ref: 'example-org/app/.github/workflows/deploy.yml@refs/heads/main', job_workflow_sha: 'b'.repeat(40),
        runner_environment: 'github-hosted',
      }),
      roleArn: 'arn:aws:iam::111122223333:role/nocreds/ci-deployer',
    },
  ];
}

/**
 * The writes of one vend by the real use case (the rule's maximum duration). With `refused`, STS
 * refuses it (AccessDenied): the vend writes its `failed` lease, the only vend write that lands in `due`.
 */
export async function vendWrites(shape: Shape, refused = false): Promise<RecordedWrites> {
  const clock = new FixedClock(NOW);
  const leases = new RecordingLeaseStore();
  const sts = new RecordingRoleAssumer(clock);
  if (refused) sts.failNext(new AccessDeniedError('sts_access_denied', 'STS refused AssumeRole: the role does not trust the broker.'));
  const vend = vendCredentials(
    { grants: shape.grants, roleAssumer: sts, leases, clock, ids: new SequentialIds('01JGZX3Y4Z') },
    { identity: shape.identity, requestId: 'Zx1YvKjLoAMEcQw=', roleArn: shape.roleArn },
  );
  if (refused) await vend.then(() => Promise.reject(new Error('STS was to refuse')), () => undefined);
  else await vend;
  return itemsOf(leases);
}

/** The writes of one certificate by the real use case, issued without waiting (the CA answers at once). */
export async function certificateWrites(shape: Shape): Promise<RecordedWrites> {
  if (!shape.certificate) throw new Error(`${shape.name}: no certificate profile`);
  const clock = new FixedClock(NOW);
  const leases = new RecordingLeaseStore();
  const { csr } = await generateCsr({ commonName: shape.certificate.dns, dns: [shape.certificate.dns] });
  const result = await issueCertificate(
    { grants: shape.grants, ca: new FakeCertificateAuthority(), leases, clock, ids: new SequentialIds('01JGZX3Y4Z'), sleep: async (ms) => clock.advance(ms) },
    { identity: shape.identity, requestId: 'Zx1YvKjLoAMEcQw=', csr, profile: shape.certificate.profile },
  );
  if (result.status !== 'issued') throw new Error(`${shape.name}: certificate ${result.status}`);
  return itemsOf(leases);
}

// ---------------------------------------------------------------------------------------------
// Reads, dollars, partitions.

/** Read units: an eventually consistent query of an index reads 0.5 per started 4 KB; a consistent get of an item 1 per started 4 KB. */
export function readUnits(item: Item, index: LeaseIndex): { readonly perEmptyQuery: number; readonly perLease: number } {
  const entry = indexEntry(index, item) ?? {};
  // One lease found costs its share of the query (entries are summed, then rounded to 4 KB: about
  // its entry's fraction) and one consistent BatchGetItem read of the item.
  return { perEmptyQuery: 0.5, perLease: 0.5 * (indexEntrySize(entry) / (4 * KB)) + units(itemSize(item), 4 * KB) };
}

/** The statuses each scheduled pass reads from `due` (renew-leases.ts PHASES; the audit reads every status). */
export const RENEWAL_STATUSES: readonly LeaseStatus[] = ['pending', 'active', 'revoked', 'abandoned'];
export const AUDIT_STATUSES: readonly LeaseStatus[] = LEASE_STATUSES;

export interface Dollars {
  readonly httpApi: number;
  readonly lambda: number;
  readonly dynamo: number;
  readonly privateCa: number;
  readonly total: number;
}

/** Dollars per million requests of a function, given the write units each makes. */
export function dollarsPerMillion(writeUnitsEach: number, lambda: { memoryMb: number; billedMs: number }, privateCaEach = 0): Dollars {
  const M = 1e6;
  const httpApi = M * PRICES.httpApiPerRequest;
  const lambdaCost = M * (PRICES.lambdaPerRequest + (lambda.memoryMb / 1024) * (lambda.billedMs / 1000) * PRICES.lambdaPerGbSecond);
  const dynamo = M * writeUnitsEach * PRICES.dynamoPerWriteUnit;
  const privateCa = M * privateCaEach;
  return { httpApi, lambda: lambdaCost, dynamo, privateCa, total: httpApi + lambdaCost + dynamo + privateCa };
}

export interface PartitionLoad {
  readonly partition: string;
  /** Write units one vend puts on one partition of it. */
  readonly writeUnitsPerVend: number;
  /** Vends a second one partition takes before 1,000 write units a second. */
  readonly vendsPerSecond: number;
  /** Write units a second on its busiest partition at the modelled load, and how that is spread. */
  readonly atLoad: number;
  readonly spread: string;
}

/**
 * Partition loads at `ASSUMPTIONS.vendsPerSecond`. The table and `byAccessKey` are keyed by values
 * unique to a vend (a lease id, an access key): a vend's write lands on a partition of its own
 * key, so no partition sees more than one vend's write per key. `byCaller` takes every vend of one
 * caller on one partition. `due` takes no active credentials lease; its worst case is every vend
 * failing (a `failed` lease each), spread over the shards.
 */
export function partitionLoads(vend: WriteUnits, failedVend: WriteUnits): PartitionLoad[] {
  const rate = ASSUMPTIONS.vendsPerSecond;
  const cap = ASSUMPTIONS.partitionWriteUnitsPerSecond;
  const per = (u: number) => (u === 0 ? Number.POSITIVE_INFINITY : cap / u);
  const byCaller = vend.indexes.byCaller ?? 0;
  const dueFailed = failedVend.indexes.due ?? 0;
  return [
    { partition: 'table (leaseId)', writeUnitsPerVend: vend.table, vendsPerSecond: per(vend.table), atLoad: vend.table, spread: 'a new key per vend (a ULID): the busiest key takes one write; DynamoDB splits partitions by key range' },
    { partition: 'byAccessKey (accessKeyId)', writeUnitsPerVend: vend.indexes.byAccessKey ?? 0, vendsPerSecond: per(vend.indexes.byAccessKey ?? 0), atLoad: vend.indexes.byAccessKey ?? 0, spread: 'a new key per vend (the STS access key id): as the table' },
    {
      partition: 'byCaller (caller)',
      writeUnitsPerVend: byCaller,
      vendsPerSecond: per(byCaller),
      atLoad: (rate * byCaller) / Math.ceil((rate * byCaller) / cap),
      spread: `per caller: needs at least ${Math.ceil((rate * byCaller) / cap)} callers evenly (one caller alone: ${rate * byCaller} WCU/s)`,
    },
    { partition: `due (status#shard, ${LEASE_TABLE.dueShards} shards)`, writeUnitsPerVend: vend.indexes.due ?? 0, vendsPerSecond: per(vend.indexes.due ?? 0), atLoad: vend.indexes.due ?? 0, spread: 'an active credentials lease is not in due' },
    {
      partition: 'due, worst case: every vend failed',
      writeUnitsPerVend: dueFailed,
      vendsPerSecond: per(dueFailed) * LEASE_TABLE.dueShards,
      atLoad: (rate * dueFailed) / LEASE_TABLE.dueShards,
      spread: `failed#0..${LEASE_TABLE.dueShards - 1}, by a hash of the lease id`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The model and its table.

export interface ShapeModel {
  readonly shape: string;
  readonly itemBytes: number;
  readonly vend: WriteUnits;
  readonly dollarsPerMillionVends: Dollars;
  readonly partitions: PartitionLoad[];
  readonly certificate?: { readonly itemBytes: number; readonly writes: number; readonly units: WriteUnits; readonly dollarsPerMillion: Dollars };
  readonly reads: { readonly renewalEmptyPass: number; readonly auditEmptyPass: number; readonly perDueLease: number };
}

/** The model of one shape from the writes its vend (and certificate, if any) made. */
export function modelShape(shape: string, vend: RecordedWrites, refusedVend: RecordedWrites, certificate?: RecordedWrites): ShapeModel {
  const onePut = (writes: RecordedWrites, what: string) => {
    if (writes.length !== 1 || writes[0]?.before) throw new Error(`${shape}: ${what} made ${writes.length} writes, expected one put`);
    return writes[0]!.after;
  };
  const item = onePut(vend, 'a vend');
  const vendUnits = writeUnits(undefined, item);
  const failedItem = onePut(refusedVend, 'a refused vend');
  const credentials = BROKER_FUNCTIONS.credentials.memorySize;
  const certificates = BROKER_FUNCTIONS.certificates.memorySize;
  const due = LEASE_TABLE.indexes.find((i) => i.name === 'due')!;
  const certModel = certificate && (() => {
    const units = sumWriteUnits(certificate.map((w) => writeUnits(w.before, w.after)));
    const last = certificate[certificate.length - 1]!.after;
    return {
      itemBytes: itemSize(last),
      writes: certificate.length,
      units,
      dollarsPerMillion: dollarsPerMillion(units.total, { memoryMb: certificates, billedMs: ASSUMPTIONS.certificateBilledMs }, PRICES.privateCaShortLivedPerCertificate),
    };
  })();
  const dueItem = certificate?.[certificate.length - 1]?.after ?? failedItem;
  return {
    shape,
    itemBytes: itemSize(item),
    vend: vendUnits,
    dollarsPerMillionVends: dollarsPerMillion(vendUnits.total, { memoryMb: credentials, billedMs: ASSUMPTIONS.vendBilledMs }),
    partitions: partitionLoads(vendUnits, writeUnits(undefined, failedItem)),
    ...(certModel ? { certificate: certModel } : {}),
    reads: {
      renewalEmptyPass: RENEWAL_STATUSES.length * LEASE_TABLE.dueShards * readUnits(dueItem, due).perEmptyQuery,
      auditEmptyPass: AUDIT_STATUSES.length * LEASE_TABLE.dueShards * readUnits(dueItem, due).perEmptyQuery,
      perDueLease: readUnits(dueItem, due).perLease,
    },
  };
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'unbounded');

/** The printed report (markdown tables). */
export function render(models: readonly ShapeModel[]): string {
  const out: string[] = [];
  const indexNames = LEASE_TABLE.indexes.map((i) => i.name);
  out.push(`Lease table cost model (prices ${PRICES.date}, ${PRICES.source}; assumptions in scripts/model-prices.ts)`, '');
  out.push('Per vend (one conditional PutItem of the active lease, made by vendCredentials):', '');
  out.push(`| identity | item bytes | table WCU | ${indexNames.map((n) => `${n} WCU`).join(' | ')} | WCU per vend (target <= ${TARGETS.writeUnitsPerVend}) | $ per million vends: API / Lambda / DynamoDB = total (target <= $${TARGETS.dollarsPerMillionVends}) |`);
  out.push(`|---|---|---|${indexNames.map(() => '---|').join('')}---|---|`);
  for (const m of models) {
    const d = m.dollarsPerMillionVends;
    out.push(
      `| ${m.shape} | ${m.itemBytes} | ${m.vend.table} | ${indexNames.map((n) => m.vend.indexes[n] ?? 0).join(' | ')} | ${m.vend.total} (${m.vend.total <= TARGETS.writeUnitsPerVend ? 'meets' : 'OVER'}) | ${usd(d.httpApi)} / ${usd(d.lambda)} / ${usd(d.dynamo)} = **${usd(d.total)}** (${d.total <= TARGETS.dollarsPerMillionVends ? 'meets' : 'OVER'}) |`,
    );
  }
  out.push('', `Lambda: credentials function ${BROKER_FUNCTIONS.credentials.memorySize} MB x ${ASSUMPTIONS.vendBilledMs} ms billed (assumed); STS is free.`, '');
  const certs = models.filter((m) => m.certificate);
  if (certs.length) {
    out.push('Per certificate (pending put, certificate ARN update, active update; made by issueCertificate, short-lived CA mode):', '');
    out.push('| identity | item bytes (active) | writes | WCU (table + indexes) | $ per million certificates: API / Lambda / DynamoDB / Private CA = total |', '|---|---|---|---|---|');
    for (const m of certs) {
      const c = m.certificate!;
      const d = c.dollarsPerMillion;
      out.push(`| ${m.shape} | ${c.itemBytes} | ${c.writes} | ${c.units.total} (${c.units.table} + ${indexNames.map((n) => `${n} ${c.units.indexes[n] ?? 0}`).join(', ')}) | ${usd(d.httpApi)} / ${usd(d.lambda)} / ${usd(d.dynamo)} / ${usd(d.privateCa)} = **${usd(d.total)}** |`);
    }
    out.push('', `Plus the CA: $${PRICES.privateCaShortLivedPerCaMonth} a month in short-lived mode. Lambda: certificates function ${BROKER_FUNCTIONS.certificates.memorySize} MB x ${ASSUMPTIONS.certificateBilledMs} ms billed (assumed).`, '');
  }
  out.push('Reads of the scheduled jobs (due index, keys only, eventually consistent queries; items by consistent BatchGetItem):', '');
  out.push('| identity | renewal pass, nothing due (RCU) | audit pass, nothing due (RCU) | per lease a pass finds (RCU) |', '|---|---|---|---|');
  for (const m of models) out.push(`| ${m.shape} | ${m.reads.renewalEmptyPass} | ${m.reads.auditEmptyPass} | ${m.reads.perDueLease.toFixed(2)} |`);
  out.push('', `Partitions at ${fmt(ASSUMPTIONS.vendsPerSecond)} vends/s (limit ${fmt(ASSUMPTIONS.partitionWriteUnitsPerSecond)} WCU/s per partition):`, '');
  out.push('| identity | partition | WCU per vend on it | vends/s one key takes | busiest key at load (WCU/s) | spread |', '|---|---|---|---|---|---|');
  for (const m of models) {
    for (const p of m.partitions) out.push(`| ${m.shape} | ${p.partition} | ${p.writeUnitsPerVend} | ${fmt(p.vendsPerSecond)} | ${fmt(p.atLoad)} (${p.atLoad <= ASSUMPTIONS.partitionWriteUnitsPerSecond ? 'under' : 'OVER'}) | ${p.spread} |`);
  }
  return out.join('\n');
}

export async function runModel(): Promise<ShapeModel[]> {
  const models: ShapeModel[] = [];
  for (const shape of shapes()) models.push(modelShape(shape.name, await vendWrites(shape), await vendWrites(shape, true), shape.certificate ? await certificateWrites(shape) : undefined));
  return models;
}

if (require.main === module) {
  runModel()
    .then((models) => console.log(render(models)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
