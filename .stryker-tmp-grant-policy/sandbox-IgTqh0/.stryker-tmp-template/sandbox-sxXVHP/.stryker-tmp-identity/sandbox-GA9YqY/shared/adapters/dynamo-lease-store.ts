// @ts-nocheck
// 
// 
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { Lease, LeaseStatus } from '../domain/lease';
import type { LeaseCondition, LeasePage, LeaseQuery, LeaseStore } from '../ports';
import { mapSdkError } from './sdk-errors';

/**
 * The lease table. One item per lease, keyed by `leaseId` (a ULID, so ids sort by issue time).
 *
 * | index        | partition key   | sort key    | serves                                             |
 * |--------------|-----------------|-------------|----------------------------------------------------|
 * | (table)      | leaseId         |             | get, conditional state transitions                 |
 * | byCaller     | caller          | leaseId     | GET /v1/leases for one caller, newest first         |
 * | byStatus     | status          | expiresAt   | renewal and audit jobs: active leases past expiry   |
 * | byAccessKey  | accessKeyId     |             | CloudTrail access key id -> lease -> caller (sparse) |
 *
 * `ttl` (epoch seconds) is the TTL attribute: expiry plus retention. TTL deletes lag by days,
 * so readers still check `expiresAt`. infra/ defines the same schema (TABLE_SCHEMA below).
 */
export const TABLE_SCHEMA = {
  partitionKey: 'leaseId',
  ttlAttribute: 'ttl',
  indexes: {
    byCaller: { partitionKey: 'caller', sortKey: 'leaseId' },
    byStatus: { partitionKey: 'status', sortKey: 'expiresAt' },
    byAccessKey: { partitionKey: 'accessKeyId' },
  },
} as const;

const MAX_PAGE = 100;

export class DynamoLeaseStore implements LeaseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(lease, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(leaseId)',
        }),
      );
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
      return out.Item ? (unmarshall(out.Item) as Lease) : undefined;
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }

  async update(leaseId: string, expectedStatus: LeaseStatus, changes: Partial<Lease>, condition: LeaseCondition = {}): Promise<Lease> {
    const entries = Object.entries(changes).filter(([k, v]) => v !== undefined && k !== 'leaseId');
    const names: Record<string, string> = { '#status_expected': 'status' };
    const values: Record<string, AttributeValue> = { ':expected': { S: expectedStatus } };
    const sets = entries.map(([key, value], i) => {
      names[`#f${i}`] = key;
      Object.assign(values, marshall({ [`:v${i}`]: value }, { removeUndefinedValues: true }));
      return `#f${i} = :v${i}`;
    });
    const extra = Object.entries(condition).map(([key, value], i) => {
      names[`#c${i}`] = key;
      if (value === null) return `attribute_not_exists(#c${i})`;
      values[`:c${i}`] = { S: value as string };
      return `#c${i} = :c${i}`;
    });
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseId: { S: leaseId } },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: ['attribute_exists(leaseId) AND #status_expected = :expected', ...extra].join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return unmarshall(out.Attributes ?? {}) as Lease;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const old = error.Item ? (unmarshall(error.Item) as Lease) : undefined;
        if (!old) throw new NotFoundError('lease_not_found', `Lease ${leaseId} does not exist.`, { cause: error });
        if (old.status === expectedStatus) {
          throw new ConflictError('lease_condition_failed', `Lease ${leaseId} has changed since it was read.`, { cause: error, details: { status: old.status, lease: old } });
        }
        throw new ConflictError('lease_state_changed', `Lease ${leaseId} is ${old.status}, not ${expectedStatus}.`, { cause: error, details: { status: old.status } });
      }
      throw mapSdkError('DynamoDB', error);
    }
  }

  async query(query: LeaseQuery): Promise<LeasePage> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const filters: string[] = [];
    let input: QueryCommandInput;
    if (query.caller !== undefined) {
      names['#caller'] = 'caller';
      values[':caller'] = { S: query.caller };
      input = { TableName: this.tableName, IndexName: 'byCaller', KeyConditionExpression: '#caller = :caller', ScanIndexForward: false };
      if (query.status !== undefined) {
        names['#status'] = 'status';
        values[':status'] = { S: query.status };
        filters.push('#status = :status');
      }
    } else {
      names['#status'] = 'status';
      values[':status'] = { S: query.status ?? 'active' };
      input = { TableName: this.tableName, IndexName: 'byStatus', KeyConditionExpression: '#status = :status', ScanIndexForward: true };
    }
    if (query.kind !== undefined) {
      names['#kind'] = 'kind';
      values[':kind'] = { S: query.kind };
      filters.push('#kind = :kind');
    }
    return this.page({
      ...input,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      Limit: Math.min(query.limit, MAX_PAGE),
      ...(query.cursor ? { ExclusiveStartKey: marshall(query.cursor) } : {}),
    });
  }

  async dueBefore(status: LeaseStatus, before: Date, limit: number, cursor?: Record<string, unknown>, after?: Date): Promise<LeasePage> {
    // BETWEEN is inclusive; the filter keeps `before` exclusive as without `after`.
    const range = after === undefined ? '#expiresAt < :before' : '#expiresAt BETWEEN :after AND :before';
    return this.page({
      TableName: this.tableName,
      IndexName: 'byStatus',
      KeyConditionExpression: `#status = :status AND ${range}`,
      ...(after === undefined ? {} : { FilterExpression: '#expiresAt < :before' }),
      ExpressionAttributeNames: { '#status': 'status', '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: {
        ':status': { S: status },
        ':before': { S: before.toISOString() },
        ...(after === undefined ? {} : { ':after': { S: after.toISOString() } }),
      },
      Limit: Math.min(limit, MAX_PAGE),
      ...(cursor ? { ExclusiveStartKey: marshall(cursor) } : {}),
    });
  }

  async findByAccessKeyId(accessKeyId: string): Promise<Lease | undefined> {
    const page = await this.page({
      TableName: this.tableName,
      IndexName: 'byAccessKey',
      KeyConditionExpression: '#ak = :ak',
      ExpressionAttributeNames: { '#ak': 'accessKeyId' },
      ExpressionAttributeValues: { ':ak': { S: accessKeyId } },
      Limit: 1,
    });
    return page.leases[0];
  }

  private async page(input: QueryCommandInput): Promise<LeasePage> {
    try {
      const out = await this.client.send(new QueryCommand(input));
      return {
        leases: (out.Items ?? []).map((item) => unmarshall(item) as Lease),
        ...(out.LastEvaluatedKey ? { next: unmarshall(out.LastEvaluatedKey) } : {}),
      };
    } catch (error) {
      throw mapSdkError('DynamoDB', error);
    }
  }
}

/** The CreateTable input for this schema: used by the local run and the integration tests. */
export function createTableInput(tableName: string) {
  const gsi = (name: string, pk: string, sk?: string) => ({
    IndexName: name,
    KeySchema: [{ AttributeName: pk, KeyType: 'HASH' as const }, ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : [])],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: ['leaseId', 'caller', 'status', 'expiresAt', 'accessKeyId'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [{ AttributeName: 'leaseId', KeyType: 'HASH' as const }],
    GlobalSecondaryIndexes: [gsi('byCaller', 'caller', 'leaseId'), gsi('byStatus', 'status', 'expiresAt'), gsi('byAccessKey', 'accessKeyId')],
  };
}
