import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LEASE_TABLE, type LeaseIndex } from '../../../shared/adapters/dynamo-lease-table';
import { PRICES } from '../../../scripts/model-prices';
import { certificateWrites, dollarsPerMillion, indexEntry, itemSize, modelShape, partitionLoads, render, shapes, vendWrites, writeUnits, type RecordedWrites } from '../../../scripts/model';

type Item = Record<string, AttributeValue>;
const pad = (item: Item, bytes: number): Item => ({ ...item, padding: { S: 'x'.repeat(bytes) } });

describe('npm run model: figures derived from the items the use cases write', () => {
  const all = shapes();
  const eks = all.find((s) => s.name.startsWith('EKS'))!;
  let vend: RecordedWrites;
  let refused: RecordedWrites;
  beforeAll(async () => {
    vend = await vendWrites(eks);
    refused = await vendWrites(eks, true);
  });

  test('a vend is one put of an active credentials lease; a refused vend one put of a failed lease in due', () => {
    expect(vend).toHaveLength(1);
    expect(vend[0]!.before).toBeUndefined();
    expect(vend[0]!.after.status?.S).toBe('active');
    expect(vend[0]!.after.due).toBeUndefined();
    expect(refused[0]!.after.status?.S).toBe('failed');
    expect(refused[0]!.after.due?.S).toMatch(/^failed#\d+$/);
  });

  test('the printed figures follow the item: a larger item costs more units and more dollars', () => {
    const lean = modelShape('eks', vend, refused);
    expect(lean.itemBytes).toBe(itemSize(vend[0]!.after));
    expect(lean.vend).toEqual({ table: 1, indexes: { byCaller: 1, byAccessKey: 1, due: 0 }, total: 3 });
    expect(render([lean])).toContain(`| eks | ${lean.itemBytes} | 1 | 1 | 1 | 0 | 3 (meets)`);

    const fat = modelShape('eks', [{ after: pad(vend[0]!.after, 1100) }], refused);
    expect(fat.itemBytes).toBe(lean.itemBytes + 'padding'.length + 1100);
    expect(fat.vend.table).toBe(2);
    expect(fat.vend.total).toBe(4);
    expect(fat.dollarsPerMillionVends.dynamo - lean.dollarsPerMillionVends.dynamo).toBeCloseTo(PRICES.dynamoPerWriteUnit * 1e6, 10);
    expect(render([fat])).toContain('| 4 (OVER)');
  });

  test('the indexes follow the table description: projecting the whole item into byCaller costs its size there', () => {
    const item = pad(vend[0]!.after, 1100);
    const all: LeaseIndex = { name: 'byCaller', partitionKey: 'caller', sortKey: 'leaseId', projection: { type: 'INCLUDE', attributes: Object.keys(item) } };
    expect(writeUnits(undefined, item).indexes.byCaller).toBe(1);
    expect(writeUnits(undefined, item, [all]).indexes.byCaller).toBe(2);
  });

  test('DynamoDB write rules: sparse entries cost nothing, a changed index key is a delete and a put, unchanged projections no index write', () => {
    const due = LEASE_TABLE.indexes.find((i) => i.name === 'due')!;
    const active = vend[0]!.after;
    expect(indexEntry(due, active)).toBeUndefined();
    const pending: Item = { ...active, status: { S: 'pending' }, due: { S: 'pending#3' } };
    const activeCert: Item = { ...active, due: { S: 'active#3' } };
    expect(writeUnits(pending, activeCert).indexes).toEqual({ byCaller: 1, byAccessKey: 0, due: 2 });
    expect(writeUnits(pending, { ...pending, certificateArn: { S: 'arn:x' } }).indexes).toEqual({ byCaller: 0, byAccessKey: 0, due: 0 });
    // An update is charged for the larger of the item before and after.
    expect(writeUnits(pad(active, 1100), active).table).toBe(2);
  });

  test('a certificate: the pending put and two updates the use case makes, each costed', async () => {
    const writes = await certificateWrites(eks);
    expect(writes.map((w) => w.after.status?.S)).toEqual(['pending', 'pending', 'active']);
    const model = modelShape('eks', vend, refused, writes);
    expect(model.certificate?.writes).toBe(3);
    expect(model.certificate?.units.total).toBe(writes.reduce((n, w) => n + writeUnits(w.before, w.after).total, 0));
    expect(model.certificate?.dollarsPerMillion.privateCa).toBeCloseTo(PRICES.privateCaShortLivedPerCertificate * 1e6, 6);
  });

  test('partition loads: byCaller carries every vend of a caller; due only refusals, spread over the shards', () => {
    const loads = partitionLoads(writeUnits(undefined, vend[0]!.after), writeUnits(undefined, refused[0]!.after));
    const byName = Object.fromEntries(loads.map((l) => [l.partition.split(' ')[0] + (l.partition.includes('worst') ? '-worst' : ''), l]));
    expect(byName.byCaller?.vendsPerSecond).toBe(1000);
    expect(byName.due?.writeUnitsPerVend).toBe(0);
    expect(byName['due,-worst']?.atLoad).toBe(10_000 / LEASE_TABLE.dueShards);
  });

  test('dollars: each line is its price times its quantity', () => {
    const d = dollarsPerMillion(3, { memoryMb: 512, billedMs: 60 });
    expect(d.httpApi).toBeCloseTo(1.0, 10);
    expect(d.lambda).toBeCloseTo(0.2 + 0.5 * 0.06 * PRICES.lambdaPerGbSecond * 1e6, 10);
    expect(d.dynamo).toBeCloseTo(3 * 0.625, 10);
    expect(d.total).toBeCloseTo(d.httpApi + d.lambda + d.dynamo, 10);
  });
});
