// @ts-nocheck
// 
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { describeLeaseStoreContract } from '../fakes/lease-store-contract';
import { awsClientConfig, resetMoto } from './moto';

/**
 * The DynamoDB lease store (the one credentials are recorded in) meets the same contract as the
 * in-memory fake the unit tests use (test/unit/fakes/lease-store.test.ts).
 */
const dynamo = new DynamoDBClient(awsClientConfig());
let tables = 0;

beforeAll(() => resetMoto());

describeLeaseStoreContract('DynamoLeaseStore on moto', async () => {
  const name = `leases-contract-${++tables}`;
  await dynamo.send(new CreateTableCommand(createTableInput(name)));
  return new DynamoLeaseStore(dynamo, name);
});
