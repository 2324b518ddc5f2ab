import { AssumeRoleWithWebIdentityCommand, type AssumeRoleWithWebIdentityCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { ConfigurationError } from '../domain/errors';
import type { SessionRequest } from '../domain/session';
import { webIdentityTokenClaims, type IssuerSettings } from '../domain/web-identity';
import type { AssumedSession, Clock, RoleAssumer, TokenSigner } from '../ports';
import { assumedSession, mapStsError, policyArnsParameter } from './sts-role-assumer';

/**
 * RoleAssumer for issuer mode: signs a token for the session (web-identity.ts) and exchanges it
 * with AssumeRoleWithWebIdentity. The session policy, managed ARNs, duration and session name are
 * sent as they would be to AssumeRole; tags and SourceIdentity travel in the token.
 */
export class StsWebIdentityRoleAssumer implements RoleAssumer {
  constructor(
    private readonly client: STSClient,
    private readonly signer: TokenSigner,
    private readonly settings: IssuerSettings,
    private readonly clock: Clock,
  ) {}

  async assumeRole(request: SessionRequest): Promise<AssumedSession> {
    const token = await this.signer.sign(webIdentityTokenClaims(request, this.settings, this.clock.now()));
    let output: AssumeRoleWithWebIdentityCommandOutput;
    try {
      output = await this.client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: request.roleArn,
          RoleSessionName: request.roleSessionName,
          WebIdentityToken: token,
          DurationSeconds: request.durationSeconds,
          Policy: request.policy,
          PolicyArns: policyArnsParameter(request.policyArns),
        }),
      );
    } catch (error) {
      throw mapStsError(error, request.roleArn);
    }
    return assumedSession('AssumeRoleWithWebIdentity', output);
  }
}

/** Sends each session request the way its grant says: AssumeRole, or (issuer mode) a signed token. */
export class ModeRoutingRoleAssumer implements RoleAssumer {
  constructor(
    private readonly assumeRoleMode: RoleAssumer,
    private readonly webIdentityMode: RoleAssumer | undefined,
  ) {}

  assumeRole(request: SessionRequest): Promise<AssumedSession> {
    if (!request.webIdentity) return this.assumeRoleMode.assumeRole(request);
    if (!this.webIdentityMode) {
      // loadConfig refuses a grant policy with web-identity rules when no issuer is configured; this is the backstop.
      return Promise.reject(new ConfigurationError('issuer_not_configured', `Rule "${request.webIdentity.ruleId}" uses via: web-identity, but this broker has no issuer signing key.`));
    }
    return this.webIdentityMode.assumeRole(request);
  }
}
