// @ts-nocheck
import { credentialsRoutes } from '../../../../functions/credentials/routes';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { Authenticator } from '../../../../shared/http/authenticator';
import { DEADLINE_RESERVE_MS } from '../../../../shared/http/route';
import type { Context } from 'aws-lambda';
import { httpEvent, parse } from '../../../support/http-events';
import { FixedClock, InMemoryLeaseStore, RecordingRoleAssumer, SequentialIds } from '../../../fakes';

/** A request that outlives its function's deadline is a 503 with Retry-After, never a 500. */
const ACCOUNT = '111122223333';
const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/deploy"] }
`);

test('a lease store that never answers: 503 deadline_exceeded before the function times out', async () => {
  const leases = new InMemoryLeaseStore();
  leases.create = () => new Promise<void>(() => undefined);
  const routes = credentialsRoutes({ grants, roleAssumer: new RecordingRoleAssumer(), leases, clock: new FixedClock(), ids: new SequentialIds(), authenticator: new Authenticator({}) });
  const deadline = Date.now() + DEADLINE_RESERVE_MS + 300;
  const context = { functionName: 'test', awsRequestId: 'a', getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
  const event = httpEvent({ method: 'POST', path: '/v1/credentials', body: { role: `arn:aws:iam::${ACCOUNT}:role/deploy` }, iam: { userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`, accountId: ACCOUNT } });
  const result = await routes.vend(event, context);
  expect(Date.now()).toBeLessThan(deadline);
  expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 503, code: 'deadline_exceeded' });
  expect(result.headers['retry-after']).toBe('5');
});
