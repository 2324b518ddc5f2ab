import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { Lease, LeaseStatus } from '../domain/lease';
import type { DueQuery, LeaseChanges, LeaseCondition, LeasePage, LeaseQuery, LeaseStore } from '../ports';
import { DUE_SHARDS, dueOf, duePartition, jobStateKey, leaseFromItem, leaseItem } from './dynamo-lease-table';
import { mapSdkError } from './sdk-errors';

export { createTableInput, LEASE_TABLE } from './dynamo-lease-table';

const MAX_PAGE = 100;
/** BatchGetItem reads at most 100 keys; unprocessed keys are asked again this many times. */
const BATCH_GET_ATTEMPTS = 5;

/** The lease store on the table described in dynamo-lease-table.ts. */
export class DynamoLeaseStore implements LeaseStore {
  readonly dueShards = DUE_SHARDS;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(lease: Lease): Promise<void> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: leaseItem(lease), ConditionExpression: 'attribute_not_exists(leaseId)' }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError('lease_exists', `Lease ${lease.leaseId} already exists.`, { cause: error });
      }
      throw mapSdkError('DynamoDB', error);
    }
  }

  async get(leaseId: string): Promise<Lease | undefined> {
    try {
      const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { leaseId: { S: leaseId } }, ConsistentRead: true }));
      // A job's state item (jobStateKey) is no lease: it has no kind.
      return out.Item?.kind ? leaseFromItem(out.Item) : undefined;
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }

  async update(leaseId: string, expectedStatus: LeaseStatus, changes: LeaseChanges, condition: LeaseCondition = {}): Promise<Lease> {
    const names: Record<string, string> = { '#status_expected': 'status' };
    const values: Record<string, AttributeValue> = { ':expected': { S: expectedStatus } };
    const sets: string[] = [];
    const removes: string[] = [];
    const fields: Record<string, unknown> = Object.fromEntries(Object.entries(changes).filter(([k, v]) => v !== undefined && k !== 'leaseId' && k !== 'due'));
    if (changes.status !== undefined && changes.status !== null) {
      // The due partition follows the status. Only a certificate becomes active by an update
      // (credentials leases are written active), so `active` here is a certificate's.
      fields.due = dueOf(changes.kind ?? (changes.status === 'active' ? 'certificate' : 'credentials'), changes.status, leaseId) ?? null;
    }
    Object.entries(fields).forEach(([key, value], i) => {
      names[`#f${i}`] = key;
      if (value === null) {
        removes.push(`#f${i}`);
        return;
      }
      Object.assign(values, marshall({ [`:v${i}`]: value }, { removeUndefinedValues: true }));
      sets.push(`#f${i} = :v${i}`);
    });
    const extra = Object.entries(condition).map(([key, value], i) => {
      names[`#c${i}`] = key;
      if (value === null) return `attribute_not_exists(#c${i})`;
      values[`:c${i}`] = { S: value as string };
      return `#c${i} = :c${i}`;
    });
    const expression = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseId: { S: leaseId } },
          // An update with nothing to change still checks the condition and returns the record.
          UpdateExpression: expression || 'SET #status_expected = :expected',
          ConditionExpression: ['attribute_exists(leaseId) AND #status_expected = :expected', ...extra].join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return leaseFromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const old = error.Item ? leaseFromItem(error.Item) : undefined;
        if (!old) throw new NotFoundError('lease_not_found', `Lease ${leaseId} does not exist.`, { cause: error });
        if (old.status === expectedStatus) {
          throw new ConflictError('lease_condition_failed', `Lease ${leaseId} has changed since it was read.`, { cause: error, details: { status: old.status, lease: old } });
        }
        throw new ConflictError('lease_state_changed', `Lease ${leaseId} is ${old.status}, not ${expectedStatus}.`, { cause: error, details: { status: old.status } });
      }
      throw mapSdkError('DynamoDB', error);
    }
  }

  /**
   * One caller's leases through byCaller (which projects kind and status, so the filters run on
   * the index), then the items by key. Without a caller (an admin's listing), a paged Scan: rare,
   * and bounded per request by the use case.
   */
  async query(query: LeaseQuery): Promise<LeasePage> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const filters: string[] = [];
    for (const field of ['status', 'kind'] as const) {
      if (query[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = { S: query[field] as string };
      filters.push(`#${field} = :${field}`);
    }
    const common = {
      TableName: this.tableName,
      Limit: Math.min(query.limit, MAX_PAGE),
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ...(query.cursor ? { ExclusiveStartKey: marshall(query.cursor) } : {}),
    };
    if (query.caller === undefined) {
      // Job state items share the table: a lease always has a kind.
      names['#kindPresent'] = 'kind';
      const scan: ScanCommandInput = {
        ...common,
        FilterExpression: [...filters, 'attribute_exists(#kindPresent)'].join(' AND '),
        ExpressionAttributeNames: names,
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      };
      try {
        const out = await this.client.send(new ScanCommand(scan));
        return { leases: (out.Items ?? []).map(leaseFromItem), ...(out.LastEvaluatedKey ? { next: unmarshall(out.LastEvaluatedKey) } : {}) };
      } catch (error) {
        throw mapSdkError('DynamoDB', error);
      }
    }
    names['#caller'] = 'caller';
    values[':caller'] = { S: query.caller };
    const page = await this.keysPage({ ...common, IndexName: 'byCaller', KeyConditionExpression: '#caller = :caller', ScanIndexForward: false, ExpressionAttributeNames: names, ExpressionAttributeValues: values });
    // The index is eventually consistent: re-check the filters on the items read by key.
    const leases = (await this.getMany(page.keys)).filter((l) => (query.status === undefined || l.status === query.status) && (query.kind === undefined || l.kind === query.kind));
    return { leases, ...(page.next ? { next: page.next } : {}) };
  }

  async due(query: DueQuery): Promise<LeasePage> {
    // DynamoDB refuses unused names: #expiresAt only with a range.
    const names: Record<string, string> = { '#due': 'due', ...(query.after || query.before ? { '#expiresAt': 'expiresAt' } : {}) };
    const values: Record<string, AttributeValue> = { ':due': { S: duePartition(query.status, query.shard) } };
    let range = '';
    if (query.after !== undefined) values[':after'] = { S: query.after.toISOString() };
    if (query.before !== undefined) values[':before'] = { S: query.before.toISOString() };
    // BETWEEN is inclusive: `before` stays exclusive through the filter.
    if (query.after !== undefined && query.before !== undefined) range = ' AND #expiresAt BETWEEN :after AND :before';
    else if (query.after !== undefined) range = ' AND #expiresAt >= :after';
    else if (query.before !== undefined) range = ' AND #expiresAt < :before';
    const page = await this.keysPage({
      TableName: this.tableName,
      IndexName: 'due',
      KeyConditionExpression: `#due = :due${range}`,
      ...(query.after !== undefined && query.before !== undefined ? { FilterExpression: '#expiresAt < :before' } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: true,
      Limit: Math.min(query.limit, MAX_PAGE),
      ...(query.cursor ? { ExclusiveStartKey: marshall(query.cursor) } : {}),
    });
    // The index lags the table: keep only leases still in the status asked for.
    const leases = (await this.getMany(page.keys)).filter((l) => l.status === query.status);
    return { leases, ...(page.next ? { next: page.next } : {}) };
  }

  async findByAccessKeyId(accessKeyId: string): Promise<Lease | undefined> {
    const page = await this.keysPage({
      TableName: this.tableName,
      IndexName: 'byAccessKey',
      KeyConditionExpression: '#ak = :ak',
      ExpressionAttributeNames: { '#ak': 'accessKeyId' },
      ExpressionAttributeValues: { ':ak': { S: accessKeyId } },
      Limit: 1,
    });
    const [key] = page.keys;
    return key ? this.get(key) : undefined;
  }

  async loadJobState(job: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { leaseId: { S: jobStateKey(job) } }, ConsistentRead: true }));
      const state = out.Item?.state?.S;
      return state ? (JSON.parse(state) as Record<string, unknown>) : undefined;
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }

  async saveJobState(job: string, state: Record<string, unknown> | undefined): Promise<void> {
    // Cleared by a put without state: the job functions need no DeleteItem permission.
    const Item = { leaseId: { S: jobStateKey(job) }, ...(state === undefined ? {} : { state: { S: JSON.stringify(state) } }) };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item }));
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }

  /** Lease ids of one index page, in index order, and where the page ended. */
  private async keysPage(input: QueryCommandInput): Promise<{ keys: string[]; next?: Record<string, unknown> }> {
    try {
      const out = await this.client.send(new QueryCommand(input));
      return { keys: (out.Items ?? []).map((item) => item.leaseId?.S as string), ...(out.LastEvaluatedKey ? { next: unmarshall(out.LastEvaluatedKey) } : {}) };
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }

  /** The items of these ids, in the same order (gone ones left out), by consistent BatchGetItem. */
  private async getMany(ids: readonly string[]): Promise<Lease[]> {
    if (ids.length === 0) return [];
    const found = new Map<string, Lease>();
    let keys: Record<string, AttributeValue>[] = [...new Set(ids)].map((id) => ({ leaseId: { S: id } }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt === BATCH_GET_ATTEMPTS) throw mapSdkError('DynamoDB', Object.assign(new Error('BatchGetItem left keys unprocessed'), { name: 'ProvisionedThroughputExceededException' }));
      try {
        const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const lease = leaseFromItem(item);
          found.set(lease.leaseId, lease);
        }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, AttributeValue>[];
      } catch (error) {
        throw mapSdkError('DynamoDB', error);
      }
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id) as Lease] : []));
  }
}
