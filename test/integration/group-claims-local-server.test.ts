import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { evaluateCredentials } from '../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { identityOfLease } from '../../shared/domain/lease-access';

/**
 * Claim conditions on a groups claim, end to end over HTTP (the local server, the functions as
 * deployed, moto): identity providers send groups as a list, and a deny rule on a group must hold
 * whatever the claim's shape (a list holding the group, or a shape the broker cannot read), while
 * an allow rule on a group applies to a list holding it, and its lease records the group for the
 * jobs' re-checks.
 */
const dir = mkdtempSync(join(tmpdir(), 'nocreds-groups-'));
const grantsFile = join(dir, 'grants.yaml');
writeFileSync(
  grantsFile,
  `${readFileSync(join(__dirname, '../../local/grants.yaml'), 'utf8')}
  - id: no-contractors
    effect: deny
    callers: [{ oidc: dev, claims: { groups: contractors } }]

  - id: platform-group
    callers: [{ oidc: dev, claims: { groups: "platform-*" } }]
    credentials:
      roles: ["arn:aws:iam::123456789012:role/platform-app"]
`,
);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ grantsFile, demoRoles: ['team-a-app', 'platform-app'] });
}, 60_000);

afterAll(() => stack?.stop());

/** A service-account token of namespace `namespace` with a `groups` claim of any shape (absent when undefined). */
function token(namespace: string, groups: unknown): Promise<string> {
  return stack.issuer.mint({
    sub: `system:serviceaccount:${namespace}:app`,
    'kubernetes.io': { namespace, serviceaccount: { name: 'app', uid: `${namespace}-app` } },
    ...(groups === undefined ? {} : { groups }),
  } as Parameters<LocalStack['issuer']['mint']>[0]);
}

interface ApiBody {
  leaseId?: string;
  error?: { code: string; message: string };
  allowed?: boolean;
  claimLists?: Record<string, string[]>;
  unreadableClaims?: string[];
  rules?: Array<{ id?: string; rule?: string; effect: string; outcome?: string; detail?: string; decisive?: true }>;
}

async function request(bearer: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as ApiBody };
}

const teamRole = () => `arn:aws:iam::${stack.accountId}:role/team-a-app`;

test('the control: a team-a service account without groups, or with other groups, gets its role', async () => {
  for (const groups of [undefined, ['staff'], 'staff']) {
    const vended = await request(await token('team-a', groups), 'POST', '/v1/credentials', { role: teamRole(), fresh: true });
    expect(vended.status).toBe(201);
  }
}, 30_000);

test.each<[string, unknown]>([
  ['["contractors"]', ['contractors']],
  ['["x", "contractors"]', ['x', 'contractors']],
  ['an object', { contractors: true }],
  ['a list holding an object', [{ name: 'contractors' }]],
])('a deny rule on groups holds over HTTP when groups is %s: credentials refused, whoami and the dry run name it', async (_what, groups) => {
  const bearer = await token('team-a', groups);
  const vended = await request(bearer, 'POST', '/v1/credentials', { role: teamRole(), fresh: true });
  expect(vended.status).toBe(403);
  expect(vended.body.error?.message).toContain('no-contractors');
  const whoami = await request(bearer, 'GET', '/v1/whoami');
  expect(whoami.status).toBe(200);
  expect(whoami.body.rules?.map((r) => r.id)).toContain('no-contractors');
  expect(whoami.body).toMatchObject(Array.isArray(groups) && groups.every((g) => typeof g === 'string') ? { claimLists: { groups } } : { unreadableClaims: expect.arrayContaining(['groups']) as string[] });
  const dry = await request(bearer, 'POST', '/v1/credentials', { role: teamRole(), dryRun: true });
  expect(dry.status).toBe(200);
  expect(dry.body).toMatchObject({ allowed: false });
  expect(dry.body.rules?.find((t) => t.decisive)).toMatchObject({ rule: 'no-contractors', outcome: 'denies' });
}, 30_000);

test('an allow rule on groups applies over HTTP to a list holding the group; the lease records it for the jobs', async () => {
  const role = `arn:aws:iam::${stack.accountId}:role/platform-app`;
  const refused = await request(await token('ops', ['engineering']), 'POST', '/v1/credentials', { role });
  expect(refused.status).toBe(403);
  const vended = await request(await token('ops', ['engineering', 'platform-core']), 'POST', '/v1/credentials', { role });
  expect(vended.status).toBe(201);
  // What the renewal and audit jobs read: the stored lease, and the identity rebuilt from it.
  const store = new DynamoLeaseStore(new DynamoDBClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), stack.tableName);
  const lease = await store.get(vended.body.leaseId as string);
  expect(lease).toMatchObject({ ruleId: 'platform-group', claimLists: { groups: ['engineering', 'platform-core'] } });
  const policy = parseGrantPolicy(readFileSync(grantsFile, 'utf8').replaceAll('@DEV_ISSUER_URL@', stack.issuer.url).replaceAll('@CA_ARN@', stack.ca.caArn));
  const rebuilt = identityOfLease(lease!, policy);
  expect(rebuilt).toBeDefined();
  expect(evaluateCredentials(policy, rebuilt!, role)).toMatchObject({ allowed: true, ruleId: 'platform-group' });
}, 30_000);
