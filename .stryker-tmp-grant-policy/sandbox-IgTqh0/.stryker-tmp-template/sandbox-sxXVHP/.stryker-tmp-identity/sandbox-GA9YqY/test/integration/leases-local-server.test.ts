// @ts-nocheck
// 
// 
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * The lease routes end to end over HTTP: the local server turns requests into API Gateway events
 * and calls functions/leases/handler.ts, built from the environment as in Lambda.
 */
let stack: LocalStack;
let teamA: string;
let teamB: string;

beforeAll(async () => {
  stack = await startLocalStack();
  teamA = await stack.serviceAccountToken('team-a');
  teamB = await stack.serviceAccountToken('team-b');
}, 60_000);

afterAll(() => stack?.stop());

/** The parts of the API's answers these tests read. */
interface ApiBody {
  leaseId?: string;
  leases: Array<{ leaseId: string }>;
  lease: Record<string, unknown>;
  effect: string;
  error: { code: string };
}

async function request(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.broker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as ApiBody };
}

test('vend, list, read, revoke twice, renew refused: the four lease routes over HTTP', async () => {
  const vended = await request(teamA, 'POST', '/v1/credentials', { role: `arn:aws:iam::${stack.accountId}:role/team-a-app`, durationSeconds: 900 });
  expect(vended.status).toBe(201);
  const id = vended.body.leaseId as string;

  const list = await request(teamA, 'GET', '/v1/leases?kind=credentials');
  expect(list.status).toBe(200);
  expect(list.body.leases.map((l) => l.leaseId)).toContain(id);

  expect((await request(teamA, 'GET', `/v1/leases/${id}`)).body.lease).toMatchObject({ leaseId: id, status: 'active' });
  expect((await request(teamB, 'GET', `/v1/leases/${id}`)).status).toBe(404);
  expect((await request(teamA, 'GET', '/v1/leases?cursor=forged.cursor')).status).toBe(400);

  const revoked = await request(teamA, 'POST', `/v1/leases/${id}/revoke`);
  expect(revoked.status).toBe(200);
  // Revocation is not enabled locally: the response says what that means.
  expect(revoked.body.lease).toMatchObject({ status: 'revoked', revocationMethod: 'none' });
  expect(revoked.body.effect).toContain('stay valid until');
  const again = await request(teamA, 'POST', `/v1/leases/${id}/revoke`);
  expect(again).toEqual(revoked);

  const renew = await request(teamA, 'POST', `/v1/leases/${id}/renew`);
  expect(renew.status).toBe(409);
  expect(renew.body.error.code).toBe('lease_revoked');
}, 60_000);

test('renewing over HTTP reaches STS and PCA through the function as deployed (clients loaded on first use)', async () => {
  const vended = await request(teamA, 'POST', '/v1/credentials', { role: `arn:aws:iam::${stack.accountId}:role/team-a-app`, durationSeconds: 900, fresh: true });
  const renewed = await request(teamA, 'POST', `/v1/leases/${vended.body.leaseId}/renew`);
  expect(renewed.status).toBe(201);
  expect(renewed.body.leaseId).not.toBe(vended.body.leaseId);
  expect((await request(teamA, 'GET', `/v1/leases/${renewed.body.leaseId}`)).body.lease).toMatchObject({ status: 'active', renewedFrom: vended.body.leaseId });

  const { generateCsr } = await import('../../local/workload-csr');
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  const issued = await request(teamA, 'POST', '/v1/certificates', { csr, profile: 'mesh', validitySeconds: 3600 });
  expect(issued.status).toBe(201);
  const revoked = await request(teamA, 'POST', `/v1/leases/${issued.body.leaseId}/revoke`, { reason: 'SUPERSEDED' });
  expect(revoked.status).toBe(200);
  expect(revoked.body.lease).toMatchObject({ status: 'revoked' });
}, 60_000);
