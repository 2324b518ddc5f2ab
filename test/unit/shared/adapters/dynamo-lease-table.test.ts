import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { createTableInput, DUE_SHARDS, dueOf, dueShard, leaseFromItem, leaseItem, LEASE_TABLE } from '../../../../shared/adapters/dynamo-lease-table';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { OidcIdentity } from '../../../../shared/domain/identity';
import { identityOfLease, recordedIdentity } from '../../../../shared/domain/lease-access';
import { newLease, type Lease } from '../../../../shared/domain/lease';
import { iamIdentity } from '../../../fakes';

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers about half their digits, maps 3 + their entries). */
function size(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\./g, '').length / 2) + 1;
  if (value.M) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v) + 1, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + size(v) + 1, 0);
  return 1;
}
const itemSize = (item: Record<string, AttributeValue>) => Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v), 0);

const grants = parseGrantPolicy(readFileSync(`${__dirname}/../../../../infra/example-grants.yaml`, 'utf8'));
const NOW = new Date('2030-01-01T00:00:00Z');
const ID = '01JGZX3Y4Z5A6B7C8D9E0F1G2H';
const TOKEN_TIMES = { exp: '1767225600', iat: '1767139200', nbf: '1767139200', jti: '5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b' };

function oidc(issuerId: string, issuer: string, subject: string, claims: Record<string, string>): OidcIdentity {
  return { kind: 'oidc', issuerId, issuer, subject, caller: `${issuerId}:${subject}`, attributes: { iss: issuer, sub: subject, aud: 'nocreds', ...TOKEN_TIMES, ...claims, issuer: issuerId } };
}

/** Identities as real issuers shape them: an EKS service account, a GitHub Actions job (its twenty-odd claims). */
const SHAPES = {
  eks: oidc('eks', 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', 'system:serviceaccount:payments-prod:checkout-api', {
    namespace: 'payments-prod',
    serviceaccount: 'checkout-api',
    pod: 'checkout-api-7d9f8c6b5-x2k4p',
  }),
  github: oidc('github', 'https://token.actions.githubusercontent.com', 'repo:example-org/payments-service:ref:refs/heads/main', {
    ref: 'refs/heads/main', sha: 'a'.repeat(40), repository: 'example-org/payments-service', repository_owner: 'example-org', repository_owner_id: '123456789',
    run_id: '9876543210', run_number: '4321', run_attempt: '1', repository_visibility: 'private', repository_id: '987654321', actor_id: '1234567', actor: 'octocat',
    workflow: 'Deploy', event_name: 'push', ref_type: 'branch', ref_protected: 'true', workflow_ref: 'example-org/payments-service/.github/workflows/deploy.yml@refs/heads/main',
    workflow_sha: 'b'.repeat(40), job_workflow_ref: 'example-org/payments-service/.github/workflows/deploy.yml@refs/heads/main', job_workflow_sha: 'b'.repeat(40),
    runner_environment: 'github-hosted', repository_name: 'payments-service',
  }),
  iam: iamIdentity('arn:aws:sts::111122223333:assumed-role/ci-runner/build-1'),
};

function vendedLease(identity: (typeof SHAPES)[keyof typeof SHAPES]): Lease {
  return newLease(
    {
      leaseId: ID, kind: 'credentials', caller: identity.caller, ...recordedIdentity(grants, identity), ruleId: 'team-apps', requestId: 'Zx1YvKjLoAMEcQw=', now: NOW,
      expiresAt: new Date(NOW.getTime() + 3_600_000), roleArn: 'arn:aws:iam::111122223333:role/nocreds/payments-prod-app', durationSeconds: 3600,
      accessKeyId: 'ASIAQWERTYUIOPASDFGH', assumedRoleArn: `arn:aws:sts::111122223333:assumed-role/payments-prod-app/${ID}`, packedPolicySize: 9,
    },
    'active',
  );
}

describe.each(Object.entries(SHAPES))('a vend for a %s identity', (shape, identity) => {
  const lease = vendedLease(identity);
  const item = leaseItem(lease);

  test('writes one item of at most 1 KB (one write unit), into two small index entries and not into due', () => {
    // Printed for the record (npx jest test/unit/shared/adapters/dynamo-lease-table.test.ts).
    console.log(`${shape}: lease item ${itemSize(item)} bytes; claims kept: ${JSON.stringify(lease.claims ?? {})}`);
    expect(itemSize(item)).toBeLessThanOrEqual(1024);
    expect(item.due).toBeUndefined();
    expect(Object.keys(item)).not.toContain('identity');
  });

  test('keeps only the claims the grant policy reads, and rebuilds the identity the jobs re-check', () => {
    const rebuilt = identityOfLease(leaseFromItem(item), grants);
    expect(rebuilt?.caller).toBe(identity.caller);
    // Every attribute the policy reads has the value the caller had when the lease was granted.
    for (const [name, value] of Object.entries(identity.attributes)) {
      if (['namespace', 'serviceaccount', 'sub', 'issuer'].includes(name)) expect(rebuilt?.attributes[name]).toBe(value);
    }
    expect(Object.keys(lease.claims ?? {})).not.toContain('jti');
  });

  test('reads back exactly the lease written', () => {
    expect(leaseFromItem(item)).toEqual(lease);
  });
});

test('due: every lease but an active credentials lease, in a shard spread by a hash of its id', () => {
  expect(dueOf('credentials', 'active', ID)).toBeUndefined();
  expect(dueOf('certificate', 'active', ID)).toBe(`active#${dueShard(ID)}`);
  for (const status of ['pending', 'failed', 'revoked', 'abandoned'] as const) expect(dueOf('credentials', status, ID)).toBe(`${status}#${dueShard(ID)}`);
  // ULIDs issued in one millisecond share their first 10 characters: the hash still spreads them.
  const counts = new Array<number>(DUE_SHARDS).fill(0);
  for (let i = 0; i < 1600; i++) counts[dueShard(`01JGZX3Y4Z${String(i).padStart(16, '0')}`)]! += 1;
  expect(Math.min(...counts)).toBeGreaterThan(60);
  expect(Math.max(...counts)).toBeLessThan(140);
});

test('an item written before the lean layout (the whole identity) still reads, its attributes as claims', () => {
  const lease = vendedLease(SHAPES.eks);
  const { claims: _claims, ...rest } = lease;
  const old = { ...leaseItem(rest as Lease), identity: { M: { kind: { S: 'oidc' }, attributes: { M: { namespace: { S: 'payments-prod' } } } } } };
  expect(leaseFromItem(old).claims).toEqual({ namespace: 'payments-prod' });
});

test('the table description: no index projects every attribute, and createTableInput follows it', () => {
  const input = createTableInput('t');
  expect(input.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection?.ProjectionType])).toEqual(LEASE_TABLE.indexes.map((i) => [i.name, i.projection.type]));
  expect(input.GlobalSecondaryIndexes?.every((i) => i.Projection?.ProjectionType !== 'ALL')).toBe(true);
  expect(LEASE_TABLE.dueShards).toBe(16);
});
