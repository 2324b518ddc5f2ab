// @ts-nocheck
// 
import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand, type IAMClientConfig } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { ConfigurationError, ConflictError, DependencyDeniedError, NocredsError } from '../domain/errors';
import { STS_LIMITS } from '../domain/session';
import type { SessionBlock, SessionRevoker } from '../ports';
import { errorName, mapSdkError } from './sdk-errors';

/** IAM's limit on the aggregate size of a role's inline policies (characters, whitespace not counted). */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;
/** The lease is written just before STS is called: a cut-off this much after it surely covers the session. */
const ISSUE_SLACK_SECONDS = 60;

export interface IamSessionRevokerOptions {
  /** Names of the broker-managed inline policies start with this (default `nocreds-revoked`). */
  readonly policyPrefix?: string;
  /** Override for tests; IAM's real limit by default. */
  readonly maxPolicyChars?: number;
  /** The longest session the broker vends: a cut-off is kept this long (role chaining caps it at 1 h). */
  readonly maxSessionSeconds?: number;
}

/**
 * The revoker role the broker assumes in a brokered role's account (path and name), created there
 * by `BrokeredRole` (infra/brokered-role.ts). Outside any opt-in path and untagged, so it is never
 * vendable; it trusts only the broker's lease and renewal function roles with sts:AssumeRole alone.
 */
export const DEFAULT_REVOKER_ROLE_NAME = 'nocreds-revoker/nocreds-session-revoker';

/** An account whose roles' deny policies are managed, named as IAM names it. */
export interface RevocationAccount {
  readonly partition: string;
  readonly account: string;
}

/**
 * The IAM client that manages deny policies on roles of `target`'s account, and no other: an IAM
 * call goes to the account of the caller's credentials, never the account in a role ARN, so a
 * client of the wrong account would write the deny on a same-named role there and report success.
 * Throws (a NocredsError) when the broker cannot act in that account.
 */
export type IamClientForAccount = (target: RevocationAccount) => IAMClient;

/** Roles of one account only, through `client` (whose credentials are that account's). Any other account fails closed. */
export function singleAccountIamClients(account: string, client: IAMClient): IamClientForAccount {
  return (target) => {
    if (target.account !== account) throw revocationUnavailable(target, `this broker manages deny policies in account ${account} only`);
    return client;
  };
}

export interface RevokerRoleClientsOptions {
  /** Calls sts:AssumeRole with the broker's own credentials. */
  readonly sts: STSClient;
  /** Region, endpoint, retries of the IAM clients; their credentials come from the revoker role. */
  readonly iamConfig?: Omit<IAMClientConfig, 'credentials'>;
  /** The revoker role's path and name in every account. @default DEFAULT_REVOKER_ROLE_NAME */
  readonly roleName?: string;
  /** The session name the broker uses on the revoker role (shows in CloudTrail). @default 'nocreds-revocation' */
  readonly sessionName?: string;
}

/**
 * In every account, the revoker role there (`arn:<partition>:iam::<account>:role/<roleName>`):
 * one IAM client per account, its credentials from sts:AssumeRole on that role, renewed by the SDK
 * before they expire. A missing or untrusting revoker role fails as `revocation_unavailable`.
 */
export function revokerRoleIamClients(options: RevokerRoleClientsOptions): IamClientForAccount {
  const roleName = options.roleName ?? DEFAULT_REVOKER_ROLE_NAME;
  const clients = new Map<string, IAMClient>();
  return (target) => {
    const roleArn = `arn:${target.partition}:iam::${target.account}:role/${roleName}`;
    let client = clients.get(roleArn);
    if (!client) {
      const credentials = async () => {
        try {
          const out = await options.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: options.sessionName ?? 'nocreds-revocation', DurationSeconds: 900 }));
          const c = out.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey) throw Object.assign(new Error('AssumeRole returned no credentials'), { name: 'InternalFailure' });
          return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
        } catch (error) {
          // Built again next time: a revoker role deployed later is picked up without a cold start.
          clients.delete(roleArn);
          const name = errorName(error);
          if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'NoSuchEntity' || name === 'NoSuchEntityException') {
            throw revocationUnavailable(target, `the broker cannot assume ${roleArn} (deploy it with BrokeredRole in that account, trusting this broker's lease and renewal function roles)`, error);
          }
          throw mapSdkError('STS', error);
        }
      };
      client = new IAMClient({ ...options.iamConfig, credentials });
      clients.set(roleArn, client);
    }
    return client;
  };
}

function revocationUnavailable(target: RevocationAccount, why: string, cause?: unknown): ConflictError {
  return new ConflictError('revocation_unavailable', `Sessions of roles in account ${target.account} cannot be blocked: ${why}. Nothing was revoked; the lease stays active.`, {
    details: { account: target.account },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A broker-managed policy, as its name describes it. */
type Managed =
  | { readonly kind: 'session'; readonly name: string; readonly session: string; readonly until: number }
  | { readonly kind: 'cutoff'; readonly name: string; readonly issuedBefore: number; readonly until: number };

/**
 * Blocks STS sessions with broker-managed inline policies on the role they were issued for, one
 * policy per revoked session, named `nocreds-revoked-<leaseId>-until-<epoch>`:
 *
 *   { "Sid": "DenyRevokedSession", "Effect": "Deny", "Action": "*", "Resource": "*",
 *     "Condition": { "StringEquals": { "aws:userid": "<ROLE_ID>:<leaseId>" } } }
 *
 * `aws:userid` of a role session is the role's unique id and the session name, which the broker
 * sets to the lease id, so the deny hits that one session. One policy per session because IAM has
 * no conditional writes: two revocations editing one shared document at once could each overwrite
 * the other's entry, silently unblocking a session. Separate policies never conflict, and the name
 * says when the session expires, so pruning needs no reads.
 *
 * IAM limits a role's inline policies to 10,240 characters in total. When one more session policy
 * would not fit, one cut-off replaces them, `nocreds-revoked-before-<epoch>-until-<epoch>`: deny
 * when `aws:TokenIssueTime` is before now, which blocks every session of the role issued so far
 * (the revoked ones included), kept for the longest session the broker vends. Room for it is kept
 * free, so the cut-off always fits.
 *
 * Every IAM call for a role goes to that role's own account, through `clientFor` (in a deployment,
 * the revoker role there: revokerRoleIamClients). Invariant: a deny is written on the role the
 * session was issued for, or nowhere (and then the revocation fails); never on a same-named role
 * in another account.
 *
 * The client's credentials need iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy,
 * iam:PutRolePolicy and iam:DeleteRolePolicy, on the opted-in roles only.
 */
export class IamSessionRevoker implements SessionRevoker {
  private readonly roleIds = new Map<string, string>();
  private readonly prefix: string;
  private readonly maxPolicyChars: number;
  private readonly maxSessionSeconds: number;

  constructor(
    private readonly clientFor: IamClientForAccount,
    options: IamSessionRevokerOptions = {},
  ) {
    this.prefix = options.policyPrefix ?? 'nocreds-revoked';
    this.maxPolicyChars = options.maxPolicyChars ?? ROLE_INLINE_POLICY_LIMIT;
    this.maxSessionSeconds = options.maxSessionSeconds ?? STS_LIMITS.maxChainedDurationSeconds;
  }

  async block(request: { roleArn: string; roleSessionName: string; issuedAt: Date; expiresAt: Date; now: Date }): Promise<SessionBlock> {
    const role = this.roleOf(request.roleArn);
    const userId = `${await this.roleId(role)}:${request.roleSessionName}`;
    const now = epoch(request.now);
    const { managed, others } = await this.inventory(role);
    const live = managed.filter((m) => m.until > now);

    const existing = live.find((m) => m.kind === 'session' && m.session === request.roleSessionName);
    if (existing) return { method: 'session-deny', policyName: existing.name };
    const covering = live.find((m): m is Extract<Managed, { kind: 'cutoff' }> => m.kind === 'cutoff' && m.issuedBefore >= epoch(request.issuedAt) + ISSUE_SLACK_SECONDS);
    if (covering) return { method: 'token-issue-time-cutoff', policyName: covering.name, issuedBefore: isoOf(covering.issuedBefore) };

    const session = { name: this.sessionPolicyName(request.roleSessionName, Math.max(epoch(request.expiresAt), now + 1)), document: sessionPolicy(userId) };
    const cutoffUntil = Math.max(now + this.maxSessionSeconds, ...live.map((m) => m.until));
    const cutoff = { name: `${this.prefix}-before-${now}-until-${cutoffUntil}`, document: cutoffPolicy(now) };
    const used = others + live.reduce((sum, m) => sum + this.sizeOf(m, userId.slice(0, userId.indexOf(':'))), 0);
    // Session policies leave room for a cut-off, so the fallback itself can always be written.
    if (used + session.document.length + cutoff.document.length <= this.maxPolicyChars) {
      try {
        await this.put(role, session.name, session.document);
        return { method: 'session-deny', policyName: session.name };
      } catch (error) {
        // A concurrent revocation took the room first: fall back like a full role.
        if (!(error instanceof ConfigurationError)) throw error;
      }
    }
    if (others + cutoff.document.length > this.maxPolicyChars) {
      throw new ConfigurationError('revocation_policy_no_room', `Role ${role.name}'s own inline policies leave no room for the broker's deny policy under IAM's ${this.maxPolicyChars}-character limit.`);
    }
    await this.put(role, cutoff.name, cutoff.document);
    // Every session denied so far was issued before now: the cut-off covers them all.
    for (const m of live) await this.delete(role, m.name);
    return { method: 'token-issue-time-cutoff', policyName: cutoff.name, issuedBefore: request.now.toISOString() };
  }

  async prune(roleArn: string, now: Date): Promise<number> {
    const role = this.roleOf(roleArn);
    const expired = (await this.managedPolicies(role)).filter((m) => m.until <= epoch(now));
    for (const m of expired) await this.delete(role, m.name);
    return expired.length;
  }

  /** The role and the client of its own account (throws when the broker cannot act there). */
  private roleOf(roleArn: string): TargetRole {
    const parts = /^arn:([\w-]+):iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
    if (!parts) throw new ConflictError('lease_incomplete', `${roleArn} is not an IAM role ARN; its sessions cannot be blocked.`);
    const [, partition, account, name] = parts as unknown as [string, string, string, string];
    return { arn: roleArn, name, client: this.clientFor({ partition, account }) };
  }

  private sessionPolicyName(session: string, until: number): string {
    return `${this.prefix}-${session}-until-${until}`;
  }

  /** Our policies' sizes follow from their names; only other policies need reading. */
  private sizeOf(m: Managed, roleId: string): number {
    return m.kind === 'session' ? sessionPolicy(`${roleId}:${m.session}`).length : cutoffPolicy(m.issuedBefore).length;
  }

  private parse(name: string): Managed | undefined {
    if (!name.startsWith(`${this.prefix}-`)) return undefined;
    const rest = name.slice(this.prefix.length + 1);
    const cutoff = /^before-(\d+)-until-(\d+)$/.exec(rest);
    if (cutoff) return { kind: 'cutoff', name, issuedBefore: Number(cutoff[1]), until: Number(cutoff[2]) };
    const session = /^(.+)-until-(\d+)$/.exec(rest);
    if (session) return { kind: 'session', name, session: session[1] as string, until: Number(session[2]) };
    return undefined;
  }

  private async policyNames(role: TargetRole): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call(role, () => role.client.send(new ListRolePoliciesCommand({ RoleName: role.name, ...(marker ? { Marker: marker } : {}) })));
      names.push(...(out.PolicyNames ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return names;
  }

  private async managedPolicies(role: TargetRole): Promise<Managed[]> {
    return (await this.policyNames(role)).map((n) => this.parse(n)).filter((m): m is Managed => m !== undefined);
  }

  /** The broker's policies on the role, and the size of everything else inline on it. */
  private async inventory(role: TargetRole): Promise<{ managed: Managed[]; others: number }> {
    const managed: Managed[] = [];
    let others = 0;
    for (const name of await this.policyNames(role)) {
      const ours = this.parse(name);
      if (ours) {
        managed.push(ours);
        continue;
      }
      const out = await this.call(role, () => role.client.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: name })));
      others += minifiedLength(decodePolicy(out.PolicyDocument ?? '{}'));
    }
    return { managed, others };
  }

  /** Keyed by ARN: same-named roles in two accounts have different ids. */
  private async roleId(role: TargetRole): Promise<string> {
    const known = this.roleIds.get(role.arn);
    if (known) return known;
    const out = await this.call(role, () => role.client.send(new GetRoleCommand({ RoleName: role.name })));
    const id = out.Role?.RoleId;
    if (!id) throw mapSdkError('IAM', Object.assign(new Error('GetRole returned no RoleId'), { name: 'InternalFailure' }));
    this.roleIds.set(role.arn, id);
    return id;
  }

  private async put(role: TargetRole, policyName: string, document: string): Promise<void> {
    try {
      await role.client.send(new PutRolePolicyCommand({ RoleName: role.name, PolicyName: policyName, PolicyDocument: document }));
    } catch (error) {
      if (errorName(error) === 'LimitExceededException' || errorName(error) === 'LimitExceeded') {
        throw new ConfigurationError('revocation_policy_no_room', `IAM refused another inline policy on role ${role.name}: its size limit is reached.`, { cause: error });
      }
      throw this.mapError(role.name, error);
    }
  }

  private async delete(role: TargetRole, policyName: string): Promise<void> {
    try {
      await role.client.send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: policyName }));
    } catch (error) {
      // Already gone (another run pruned it): the outcome wanted.
      if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw this.mapError(role.name, error);
    }
  }

  private async call<T>(role: TargetRole, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.mapError(role.name, error);
    }
  }

  private mapError(roleName: string, error: unknown) {
    // Already a domain error (the revoker role could not be assumed): keep its code.
    if (error instanceof NocredsError) return error;
    const name = errorName(error);
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      return new DependencyDeniedError('revocation_not_permitted', `The broker may not manage deny policies on role ${roleName}; only roles that opted in to revocation allow it.`, { cause: error });
    }
    if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') {
      return new DependencyDeniedError('role_not_found', `Role ${roleName} does not exist (any session of a deleted role is already unusable).`, { cause: error });
    }
    return mapSdkError('IAM', error);
  }
}

/** The deny for one session, minified as IAM counts it. */
export function sessionPolicy(userId: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'DenyRevokedSession', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:userid': userId } } }] });
}

/** The deny for every session of the role issued before `issuedBefore` (epoch seconds). */
export function cutoffPolicy(issuedBefore: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'DenySessionsIssuedBeforeRevocation', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': isoOf(issuedBefore) } } }],
  });
}

/** A role, and the IAM client of its own account. */
interface TargetRole {
  readonly arn: string;
  readonly name: string;
  readonly client: IAMClient;
}

function epoch(date: Date): number {
  return Math.ceil(date.getTime() / 1000);
}

function isoOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/** GetRolePolicy's document is URL-encoded JSON (RFC 3986); accept plain JSON too. */
function decodePolicy(document: string): string {
  const trimmed = document.trim();
  return trimmed.startsWith('{') ? trimmed : decodeURIComponent(trimmed);
}

function minifiedLength(json: string): number {
  try {
    return JSON.stringify(JSON.parse(json)).length;
  } catch {
    return json.replace(/\s+/g, '').length;
  }
}
