import { AccessDeniedError, ValidationError } from '../domain/errors';
import { evaluateCredentials, type CredentialsGrant, type GrantPolicy } from '../domain/grant-policy';
import type { Identity } from '../domain/identity';
import { compileSession, type CompiledSession } from '../domain/session';
import type { PolicyDocument } from '../domain/session-policy';

/**
 * The decision half of a vend or an issuance: everything the broker decides before it writes a
 * lease or calls STS or PCA. A real request and a dry run (dry-run.ts) both go through these
 * functions, so what a dry run reports is, by construction, what the real request would do up to
 * the first call to AWS. Each throws the error the real request answers with.
 */

export interface CredentialsInput {
  readonly roleArn: string;
  readonly durationSeconds?: number;
  readonly policy?: PolicyDocument;
  readonly policyArns?: readonly string[];
}

export interface CredentialsDecided {
  readonly ruleId: string;
  readonly grant: CredentialsGrant;
  /** What AssumeRole will receive, but for the lease id (session name and lease tag). */
  readonly session: CompiledSession;
}

export function decideCredentials(grants: GrantPolicy, identity: Identity, input: CredentialsInput): CredentialsDecided {
  const decision = evaluateCredentials(grants, identity, input.roleArn);
  if (!decision.allowed) {
    throw new AccessDeniedError('grant_denied', `Credentials for ${input.roleArn} are not granted: ${decision.reason}.`, {
      details: { ...(decision.ruleId ? { rule: decision.ruleId } : {}) },
    });
  }
  if (input.durationSeconds !== undefined && input.durationSeconds > decision.grant.maxDurationSeconds) {
    // Capping silently would surprise a caller who planned around the duration it asked for.
    throw new ValidationError(
      'duration_exceeds_grant',
      `durationSeconds ${input.durationSeconds} exceeds the ${decision.grant.maxDurationSeconds} s your grant (rule "${decision.ruleId}") allows.${decision.grant.via === 'web-identity' ? '' : ' Sessions over one hour need a grant with credentials.via: web-identity.'}`,
    );
  }
  // Anything that cannot be sent is rejected here, with no lease and no STS call.
  const session = compileSession(decision.grant, { durationSeconds: input.durationSeconds, policy: input.policy, policyArns: input.policyArns }, identity);
  return { ruleId: decision.ruleId, grant: decision.grant, session };
}
