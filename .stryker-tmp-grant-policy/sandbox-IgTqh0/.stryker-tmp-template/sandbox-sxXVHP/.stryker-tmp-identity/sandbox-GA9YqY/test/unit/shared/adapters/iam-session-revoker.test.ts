// @ts-nocheck
// 
// 
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import fc from 'fast-check';
import { IamSessionRevoker, revokerRoleIamClients, singleAccountIamClients } from '../../../../shared/adapters/iam-session-revoker';
import { ConflictError, DependencyUnavailableError } from '../../../../shared/domain/errors';

/**
 * Which account's IAM a revocation writes to. The writes themselves are tested against moto
 * (test/integration/cross-account-revocation.test.ts, leases-api.test.ts); here STS is replaced
 * only to inject the faults moto cannot produce (it never refuses an AssumeRole).
 */
const NOW = new Date('2030-01-01T00:00:00Z');
const request = (roleArn: string) => ({ roleArn, roleSessionName: '01LEASE0000000000000000000', issuedAt: NOW, expiresAt: new Date(NOW.getTime() + 900_000), now: NOW });

function stsFailingWith(name: string): { sts: STSClient; calls: unknown[] } {
  const sts = new STSClient({ region: 'eu-west-1' });
  const calls: unknown[] = [];
  sts.send = (async (command: { input: unknown }) => {
    calls.push(command.input);
    throw Object.assign(new Error(name), { name, $metadata: {} });
  }) as STSClient['send'];
  return { sts, calls };
}

describe('IamSessionRevoker: the account it writes in', () => {
  it('refuses a role of another account than its client, with revocation_unavailable and no IAM call', async () => {
    const iam = new IAMClient({ region: 'eu-west-1' });
    const sent: unknown[] = [];
    iam.send = (async (command: unknown) => {
      sent.push(command);
      throw new Error('no IAM call expected');
    }) as IAMClient['send'];
    const revoker = new IamSessionRevoker(singleAccountIamClients('111122223333', iam));
    const refused = revoker.block(request('arn:aws:iam::444455556666:role/app'));
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ code: 'revocation_unavailable', details: { account: '444455556666' } });
    await expect(revoker.prune('arn:aws:iam::444455556666:role/app', NOW)).rejects.toMatchObject({ code: 'revocation_unavailable' });
    expect(sent).toEqual([]);
  });

  it.each(['AccessDenied', 'NoSuchEntity'])('maps a revoker role the broker cannot assume (%s) to revocation_unavailable, naming the role to deploy', async (name) => {
    const { sts, calls } = stsFailingWith(name);
    const revoker = new IamSessionRevoker(revokerRoleIamClients({ sts, iamConfig: { region: 'eu-west-1', maxAttempts: 1 } }));
    const refused = revoker.block(request('arn:aws:iam::444455556666:role/nocreds/app'));
    await expect(refused).rejects.toMatchObject({ code: 'revocation_unavailable', message: expect.stringContaining('arn:aws:iam::444455556666:role/nocreds-revoker/nocreds-session-revoker') });
    expect(calls).toEqual([expect.objectContaining({ RoleArn: 'arn:aws:iam::444455556666:role/nocreds-revoker/nocreds-session-revoker' })]);
  });

  it('assumes the revoker role of the partition and account the role ARN names, with a configured name', async () => {
    const { sts, calls } = stsFailingWith('AccessDenied');
    const revoker = new IamSessionRevoker(revokerRoleIamClients({ sts, roleName: 'ops/revoker', iamConfig: { region: 'cn-north-1', maxAttempts: 1 } }));
    await expect(revoker.block(request('arn:aws-cn:iam::777788889999:role/app'))).rejects.toMatchObject({ code: 'revocation_unavailable' });
    expect(calls).toEqual([expect.objectContaining({ RoleArn: 'arn:aws-cn:iam::777788889999:role/ops/revoker' })]);
  });

  it('fails closed with 503 when STS is throttling, and tries again on the next revocation', async () => {
    const { sts, calls } = stsFailingWith('Throttling');
    const revoker = new IamSessionRevoker(revokerRoleIamClients({ sts, iamConfig: { region: 'eu-west-1', maxAttempts: 1 } }));
    await expect(revoker.block(request('arn:aws:iam::444455556666:role/app'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(revoker.block(request('arn:aws:iam::444455556666:role/app'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toHaveLength(2);
  });

  // Invariant, over any account pair and role path: the IAM client used is the one of the role's own account, or none.
  it('asks for the client of exactly the account and partition the role ARN names (property, seed fixed)', async () => {
    const account = fc.stringMatching(/^\d{12}$/);
    await fc.assert(
      fc.asyncProperty(account, fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'), fc.stringMatching(/^([\w+=,.@-]{1,8}\/){0,2}$/), fc.stringMatching(/^[\w+=,.@-]{1,16}$/), async (roleAccount, partition, path, name) => {
        const asked: Array<{ partition: string; account: string }> = [];
        const revoker = new IamSessionRevoker((target) => {
          asked.push({ ...target });
          throw new ConflictError('revocation_unavailable', 'stop here');
        });
        await expect(revoker.block(request(`arn:${partition}:iam::${roleAccount}:role/${path}${name}`))).rejects.toMatchObject({ code: 'revocation_unavailable' });
        await expect(revoker.prune(`arn:${partition}:iam::${roleAccount}:role/${path}${name}`, NOW)).rejects.toMatchObject({ code: 'revocation_unavailable' });
        expect(asked).toEqual([{ partition, account: roleAccount }, { partition, account: roleAccount }]);
      }),
      { seed: 20261201, numRuns: 200 },
    );
  });

  it('refuses what is not a role ARN', async () => {
    const revoker = new IamSessionRevoker(singleAccountIamClients('111122223333', new IAMClient({ region: 'eu-west-1' })));
    await expect(revoker.block(request('arn:aws:iam::111122223333:user/alice'))).rejects.toMatchObject({ code: 'lease_incomplete' });
  });
});
