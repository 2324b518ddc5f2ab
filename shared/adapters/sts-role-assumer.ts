import { AssumeRoleCommand, STSClient, type AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import { DependencyDeniedError, DependencyUnavailableError, ValidationError } from '../domain/errors';
import type { SessionRequest } from '../domain/session';
import type { AssumedSession, RoleAssumer } from '../ports';
import { errorName, mapSdkError } from './sdk-errors';

/** RoleAssumer on STS AssumeRole. Pass your own client (endpoint, retries, middleware). */
export class StsRoleAssumer implements RoleAssumer {
  constructor(private readonly client: STSClient) {}

  async assumeRole(request: SessionRequest): Promise<AssumedSession> {
    let output: AssumeRoleCommandOutput;
    try {
      output = await this.client.send(
        new AssumeRoleCommand({
          RoleArn: request.roleArn,
          RoleSessionName: request.roleSessionName,
          SourceIdentity: request.sourceIdentity,
          DurationSeconds: request.durationSeconds,
          Policy: request.policy,
          PolicyArns: policyArnsParameter(request.policyArns),
          Tags: request.tags.map((t) => ({ Key: t.key, Value: t.value })),
        }),
      );
    } catch (error) {
      throw mapStsError(error, request.roleArn);
    }
    return assumedSession('AssumeRole', output);
  }
}

/** STS's `PolicyArns`: absent rather than an empty list. */
export function policyArnsParameter(arns: readonly string[]): { arn: string }[] | undefined {
  return arns.length > 0 ? arns.map((arn) => ({ arn })) : undefined;
}

/** The session of an AssumeRole or AssumeRoleWithWebIdentity answer; an incomplete one is STS's fault (5xx). */
export function assumedSession(operation: string, output: Pick<AssumeRoleCommandOutput, 'Credentials' | 'AssumedRoleUser' | 'PackedPolicySize'>): AssumedSession {
  const c = output.Credentials;
  const user = output.AssumedRoleUser;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !user?.Arn || !user.AssumedRoleId) {
    throw mapSdkError('STS', Object.assign(new Error(`${operation} returned an incomplete response`), { name: 'InternalFailure' }));
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
    assumedRoleArn: user.Arn,
    assumedRoleId: user.AssumedRoleId,
    packedPolicySize: output.PackedPolicySize,
  };
}

/** STS errors of AssumeRole and AssumeRoleWithWebIdentity, as domain errors. */
export function mapStsError(error: unknown, roleArn: string) {
  switch (errorName(error)) {
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new DependencyDeniedError(
        'role_trust_denied',
        `STS refused to let the broker assume ${roleArn}. The role's trust policy most likely does not allow the broker's role with sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity, or the role does not exist.`,
        { cause: error },
      );
    case 'InvalidIdentityToken':
    case 'InvalidIdentityTokenException':
    case 'IDPRejectedClaim':
    case 'IDPRejectedClaimException':
      return new DependencyDeniedError(
        'role_trust_denied',
        `STS refused the broker's web identity token for ${roleArn}. The role's trust policy must allow sts:AssumeRoleWithWebIdentity, sts:TagSession and sts:SetSourceIdentity for the broker's OIDC provider, with conditions on its aud and sub that admit this caller (see BrokeredRole's web-identity trust).`,
        { cause: error },
      );
    case 'IDPCommunicationError':
    case 'IDPCommunicationErrorException':
      return new DependencyUnavailableError('sts_idp_unreachable', "STS could not fetch the broker's OIDC discovery document or JWKS; retry after 5 s.", 5, { cause: error });
    case 'PackedPolicyTooLarge':
    case 'PackedPolicyTooLargeException':
      return new ValidationError('session_too_large', 'STS rejected the session: its policy and tags together exceed the packed size limit. Ask for a shorter session policy.', { cause: error });
    case 'MalformedPolicyDocument':
    case 'MalformedPolicyDocumentException':
      return new ValidationError('invalid_session_policy', 'STS rejected the session policy as malformed.', { cause: error });
    default:
      return mapSdkError('STS', error);
  }
}
