// @ts-nocheck
// 
import { signCallerIdentityProof } from '../../../../client/iam-signing';
import { StsCallerProofVerifier, type StsTransport } from '../../../../shared/adapters/sts-caller-proof-verifier';
import { DependencyUnavailableError, UnauthenticatedError } from '../../../../shared/domain/errors';
import { FixedClock } from '../../../fakes';
import { httpEvent } from '../../../support/http-events';

/**
 * What the broker makes of STS's answer to a forwarded proof (moto, which never checks signatures,
 * cannot answer these). The proof checks themselves are tested against moto in
 * test/integration/client-iam-proof.test.ts.
 */
const clock = new FixedClock('2030-01-01T00:00:00Z');
const endpoint = 'https://sts.eu-west-1.amazonaws.com';

function verifierAnswering(status: number, body: string) {
  const transport: StsTransport = async () => ({ status, body });
  return new StsCallerProofVerifier({ stsEndpoint: endpoint, region: 'eu-west-1', serverId: 'broker-a', clock, transport });
}

async function event() {
  const proof = await signCallerIdentityProof({ accessKeyId: 'EXAMPLEKEYID00000000', secretAccessKey: 'secret' }, { stsEndpoint: endpoint, region: 'eu-west-1', serverId: 'broker-a', now: clock.now() });
  return httpEvent({ method: 'GET', path: '/v1/whoami', headers: { 'x-nocreds-iam-proof': proof } });
}

const stsError = (code: string) => `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>no</Message></Error></ErrorResponse>`;

test('the identity is the ARN STS answers, normalised (a role session becomes its role)', async () => {
  const verifier = verifierAnswering(200, '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/deployer/ci-42</Arn><UserId>AROA:ci-42</UserId><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>');
  await expect(verifier.verify(await event())).resolves.toMatchObject({ kind: 'iam', principalArn: 'arn:aws:iam::111122223333:role/deployer', sessionName: 'ci-42' });
});

test.each(['SignatureDoesNotMatch', 'InvalidClientTokenId', 'ExpiredToken'])('STS refusing the signature (%s) is a 401 naming the reason', async (code) => {
  const error = await verifierAnswering(403, stsError(code)).verify(await event()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect(error).toMatchObject({ code: 'proof_rejected_by_sts', message: expect.stringContaining(code) });
});

test('STS throttling or failing is a 503 (fail closed), not an identity', async () => {
  await expect(verifierAnswering(400, stsError('Throttling')).verify(await event())).rejects.toBeInstanceOf(DependencyUnavailableError);
  await expect(verifierAnswering(500, stsError('InternalFailure')).verify(await event())).rejects.toBeInstanceOf(DependencyUnavailableError);
});

test('a 200 without an Arn, or with a root ARN, gives no identity', async () => {
  await expect(verifierAnswering(200, '<GetCallerIdentityResponse/>').verify(await event())).rejects.toBeInstanceOf(DependencyUnavailableError);
  const root = '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:root</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>';
  await expect(verifierAnswering(200, root).verify(await event())).rejects.toMatchObject({ code: 'unsupported_principal' });
});

test('only requests carrying the proof header are the verifier\'s to decide', () => {
  const verifier = verifierAnswering(200, '');
  expect(verifier.carriesProof(httpEvent({ method: 'GET', path: '/v1/whoami', headers: { authorization: 'Bearer x' } }))).toBe(false);
  expect(verifier.carriesProof(httpEvent({ method: 'GET', path: '/v1/whoami', headers: { 'X-Nocreds-Iam-Proof': 'e30=' } }))).toBe(true);
});
