import { createHash } from 'node:crypto';
import { UnauthenticatedError, ValidationError } from './errors';

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
  /**
   * Verified scalar claims (strings, numbers and booleans as text) whose names can be `${...}`
   * template names, plus preset-derived ones such as `namespace`.
   */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Verified claims whose value is an array of scalars (`groups`, `roles`, `amr`, `cognito:groups`),
   * each element as text. Read by the grant policy's `claims:` conditions only (one of the values
   * must match), never by `${...}` templates, which need one value. A scalar claim whose name
   * cannot be a template name (`cognito:username`) is here too, as a one-element list. A name in
   * `attributes` is never here. Absent: none.
   */
  readonly claimLists?: Readonly<Record<string, readonly string[]>>;
  /**
   * Names of verified claims the broker cannot read as values: an object, null, or an array holding
   * an object, an array or null, or over the caps (see `readClaimList` in oidc.ts). A deny rule's
   * condition on one of them holds (fail closed); an allow rule's does not. Absent: none.
   */
  readonly unreadableClaims?: readonly string[];
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
    // Without its path, as a caller of that role is seen (its STS session ARN carries no path):
    // a dry run `as` a role ARN with a path must decide as the real caller's request would.
    const [, partition, accountId, , roleName] = role as unknown as [string, string, string, string, string];
    const principalArn = `arn:${partition}:iam::${accountId}:role/${roleName}`;
    return {
      kind: 'iam',
      principalArn,
      accountId,
      principalType: 'role',
      name: roleName,
      caller: principalArn,
      attributes: { arn: principalArn, accountId, roleName, principalType: 'role' },
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

// ---------------------------------------------------------------------------------------------
// Role ARNs

/** IAM's limits: a role name is 1-64 characters of `[\w+=,.@-]`, a path at most 512 characters. */
export const ROLE_LIMITS = { maxNameLength: 64, maxPathLength: 512 } as const;
export const ROLE_NAME_CHARS = /^[\w+=,.@-]+$/;

export interface RoleArn {
  readonly partition: string;
  readonly accountId: string;
  /** `/` or `/a/b/`. */
  readonly path: string;
  readonly name: string;
}

const ROLE_ARN_SHAPE = /^arn:([a-z][a-z0-9-]*):iam::(\d{12}):role(\/.*)$/;

/**
 * Checks a requested role ARN against IAM's grammar and limits before any grant work: a role
 * name of 1-64 characters, a path of at most 512 (`/` alone or `/segments/`, printable ASCII,
 * no empty or dot segments). Errors: `invalid_role_arn`, `role_name_too_long`, `role_path_too_long`.
 */
export function parseRoleArn(arn: string): RoleArn {
  const problem = (code: string, message: string) =>
    new ValidationError(code, `${message} A role ARN looks like arn:aws:iam::123456789012:role/NAME or arn:aws:iam::123456789012:role/PATH/NAME.`, { details: { field: 'role' } });
  const shape = ROLE_ARN_SHAPE.exec(arn);
  if (!shape) throw problem('invalid_role_arn', 'The role is not an IAM role ARN.');
  const [, partition, accountId, resource] = shape as unknown as [string, string, string, string];
  const cut = resource.lastIndexOf('/');
  const path = resource.slice(0, cut + 1);
  const name = resource.slice(cut + 1);
  if (name.length > ROLE_LIMITS.maxNameLength) throw problem('role_name_too_long', `The role name is ${name.length} characters; IAM allows at most ${ROLE_LIMITS.maxNameLength}.`);
  if (path.length > ROLE_LIMITS.maxPathLength) throw problem('role_path_too_long', `The role path is ${path.length} characters; IAM allows at most ${ROLE_LIMITS.maxPathLength}.`);
  const segments = path.split('/').slice(1, -1);
  if (!ROLE_NAME_CHARS.test(name) || !/^[\x21-\x7e]*$/.test(path) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw problem('invalid_role_arn', 'The role name or path has characters IAM does not allow, or an empty or dot path segment.');
  }
  return { partition, accountId, path, name };
}

// ---------------------------------------------------------------------------------------------
// SourceIdentity

const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
const SOURCE_IDENTITY_UNSAFE = /[^\w+=,.@-]/g;
/** What a derived SourceIdentity ends with: `=` and 20 hex digits (80 bits of SHA-256). */
const DERIVED = /=[0-9a-f]{20}$/;

/**
 * The session's SourceIdentity for a caller id: 2-64 characters of `[\w+=,.@-]`, as STS requires,
 * and injective: distinct callers never share one (`refs/heads/release/1.0` and
 * `refs/heads/release.1.0`, `auth0|alice` and `auth0.alice`).
 *
 * An id that already fits is used as it is, unless it ends the way a derived one does. Any other
 * id (a character replaced, too short, too long) becomes its readable start, unsafe characters
 * as `.`, then `=` and a hash of the whole id. So a kept id never looks derived, and two derived
 * ids differ unless SHA-256 collides in 80 bits. The hash reads UTF-16 code units: UTF-8 would
 * turn distinct lone surrogates into the same U+FFFD.
 */
export function fitSourceIdentity(caller: string): string {
  if (SOURCE_IDENTITY.test(caller) && !DERIVED.test(caller)) return caller;
  const digest = createHash('sha256').update(Buffer.from(caller, 'utf16le')).digest('hex').slice(0, 20);
  const readable = caller.replace(SOURCE_IDENTITY_UNSAFE, '.').slice(0, 64 - 21);
  return `${readable}=${digest}`;
}
