import { createHash } from 'node:crypto';
import { UnauthenticatedError } from './errors';

/**
 * Who is calling, as the broker established it. Never built from anything the caller asserts:
 * only from API Gateway's authorizer context, a verified JWT or a verified STS proof.
 */
export type Identity = IamIdentity | OidcIdentity;

export interface IamIdentity {
  readonly kind: 'iam';
  /** Normalised principal ARN: `arn:aws:iam::ACCOUNT:role/NAME` or `arn:aws:iam::ACCOUNT:user/PATH/NAME`. */
  readonly principalArn: string;
  readonly accountId: string;
  readonly principalType: 'role' | 'user';
  readonly name: string;
  /** The assumed-role session name, when the caller is a role session. */
  readonly sessionName?: string;
  /** Stable caller id recorded on leases: the normalised principal ARN. */
  readonly caller: string;
  /** Values available to `${...}` substitution in grant templates. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface OidcIdentity {
  readonly kind: 'oidc';
  /** The configured issuer id (the grant policy's name for the issuer). */
  readonly issuerId: string;
  readonly issuer: string;
  readonly subject: string;
  /** Stable caller id recorded on leases: `ISSUER_ID:SUBJECT`. */
  readonly caller: string;
  /** Verified claims (string-valued ones, plus preset-derived ones such as `namespace`). */
  readonly attributes: Readonly<Record<string, string>>;
}

const ACCOUNT = '(\\d{12})';
const PARTITION = '(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)';
const ASSUMED_ROLE = new RegExp(`^arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/([\\w+=,.@-]{1,64})/([\\w+=,.@-]{2,64})$`);
const IAM_ROLE = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role/((?:[\\x21-\\x7e]*/)?)([\\w+=,.@-]{1,64})$`);
const IAM_USER = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:user/((?:[\\x21-\\x7e]*/)?)([\\w+=,.@-]{1,64})$`);

/**
 * Turns a principal ARN reported by AWS (API Gateway's IAM authorizer, STS GetCallerIdentity)
 * into an identity. A role session is normalised to its role (STS ARNs carry no role path);
 * IAM users are kept with their path. Root, federated users and anything else are rejected.
 */
export function iamIdentityFromArn(arn: string): IamIdentity {
  const assumed = ASSUMED_ROLE.exec(arn);
  if (assumed) {
    const [, partition, accountId, roleName, sessionName] = assumed as unknown as [string, string, string, string, string];
    const principalArn = `arn:${partition}:iam::${accountId}:role/${roleName}`;
    return {
      kind: 'iam',
      principalArn,
      accountId,
      principalType: 'role',
      name: roleName,
      sessionName,
      caller: principalArn,
      attributes: { arn: principalArn, accountId, roleName, sessionName, principalType: 'role' },
    };
  }
  const role = IAM_ROLE.exec(arn);
  if (role) {
    const [, , accountId, , roleName] = role as unknown as [string, string, string, string, string];
    return {
      kind: 'iam',
      principalArn: arn,
      accountId,
      principalType: 'role',
      name: roleName,
      caller: arn,
      attributes: { arn, accountId, roleName, principalType: 'role' },
    };
  }
  const user = IAM_USER.exec(arn);
  if (user) {
    const [, , accountId, , userName] = user as unknown as [string, string, string, string, string];
    return {
      kind: 'iam',
      principalArn: arn,
      accountId,
      principalType: 'user',
      name: userName,
      caller: arn,
      attributes: { arn, accountId, userName, principalType: 'user' },
    };
  }
  throw new UnauthenticatedError(
    'unsupported_principal',
    'The caller must be an IAM role session or an IAM user; root, federated users and other principals are not accepted.',
  );
}

const SOURCE_IDENTITY_CHARS = /[^\w+=,.@-]/g;

/**
 * Fits a caller id into STS's SourceIdentity (and RoleSessionName) alphabet and length:
 * 2-64 characters of `[\w+=,.@-]`. Characters outside it become `.`; a longer id keeps its
 * start and ends with a hash of the whole, so distinct callers stay distinct.
 */
export function fitSourceIdentity(caller: string): string {
  const cleaned = caller.replace(SOURCE_IDENTITY_CHARS, '.');
  if (cleaned.length >= 2 && cleaned.length <= 64) return cleaned;
  const digest = createHash('sha256').update(caller).digest('hex').slice(0, 12);
  if (cleaned.length < 2) return `id-${digest}`;
  return `${cleaned.slice(0, 64 - 13)}-${digest}`;
}
