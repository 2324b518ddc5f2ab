import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { ConfigurationError, DependencyDeniedError } from '../domain/errors';
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
 * Needs iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:PutRolePolicy and
 * iam:DeleteRolePolicy, on the opted-in roles only.
 */
export class IamSessionRevoker implements SessionRevoker {
  private readonly roleIds = new Map<string, string>();
  private readonly prefix: string;
  private readonly maxPolicyChars: number;
  private readonly maxSessionSeconds: number;

  constructor(
    private readonly client: IAMClient,
    options: IamSessionRevokerOptions = {},
  ) {
    this.prefix = options.policyPrefix ?? 'nocreds-revoked';
    this.maxPolicyChars = options.maxPolicyChars ?? ROLE_INLINE_POLICY_LIMIT;
    this.maxSessionSeconds = options.maxSessionSeconds ?? STS_LIMITS.maxChainedDurationSeconds;
  }

  async block(request: { roleArn: string; roleSessionName: string; issuedAt: Date; expiresAt: Date; now: Date }): Promise<SessionBlock> {
    const roleName = roleNameOf(request.roleArn);
    const userId = `${await this.roleId(roleName)}:${request.roleSessionName}`;
    const now = epoch(request.now);
    const { managed, others } = await this.inventory(roleName);
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
        await this.put(roleName, session.name, session.document);
        return { method: 'session-deny', policyName: session.name };
      } catch (error) {
        // A concurrent revocation took the room first: fall back like a full role.
        if (!(error instanceof ConfigurationError)) throw error;
      }
    }
    if (others + cutoff.document.length > this.maxPolicyChars) {
      throw new ConfigurationError('revocation_policy_no_room', `Role ${roleName}'s own inline policies leave no room for the broker's deny policy under IAM's ${this.maxPolicyChars}-character limit.`);
    }
    await this.put(roleName, cutoff.name, cutoff.document);
    // Every session denied so far was issued before now: the cut-off covers them all.
    for (const m of live) await this.delete(roleName, m.name);
    return { method: 'token-issue-time-cutoff', policyName: cutoff.name, issuedBefore: request.now.toISOString() };
  }

  async prune(roleArn: string, now: Date): Promise<number> {
    const roleName = roleNameOf(roleArn);
    const expired = (await this.managedPolicies(roleName)).filter((m) => m.until <= epoch(now));
    for (const m of expired) await this.delete(roleName, m.name);
    return expired.length;
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

  private async policyNames(roleName: string): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call(roleName, () => this.client.send(new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) })));
      names.push(...(out.PolicyNames ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return names;
  }

  private async managedPolicies(roleName: string): Promise<Managed[]> {
    return (await this.policyNames(roleName)).map((n) => this.parse(n)).filter((m): m is Managed => m !== undefined);
  }

  /** The broker's policies on the role, and the size of everything else inline on it. */
  private async inventory(roleName: string): Promise<{ managed: Managed[]; others: number }> {
    const managed: Managed[] = [];
    let others = 0;
    for (const name of await this.policyNames(roleName)) {
      const ours = this.parse(name);
      if (ours) {
        managed.push(ours);
        continue;
      }
      const out = await this.call(roleName, () => this.client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
      others += minifiedLength(decodePolicy(out.PolicyDocument ?? '{}'));
    }
    return { managed, others };
  }

  private async roleId(roleName: string): Promise<string> {
    const known = this.roleIds.get(roleName);
    if (known) return known;
    const out = await this.call(roleName, () => this.client.send(new GetRoleCommand({ RoleName: roleName })));
    const id = out.Role?.RoleId;
    if (!id) throw mapSdkError('IAM', Object.assign(new Error('GetRole returned no RoleId'), { name: 'InternalFailure' }));
    this.roleIds.set(roleName, id);
    return id;
  }

  private async put(roleName: string, policyName: string, document: string): Promise<void> {
    try {
      await this.client.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }));
    } catch (error) {
      if (errorName(error) === 'LimitExceededException' || errorName(error) === 'LimitExceeded') {
        throw new ConfigurationError('revocation_policy_no_room', `IAM refused another inline policy on role ${roleName}: its size limit is reached.`, { cause: error });
      }
      throw this.mapError(roleName, error);
    }
  }

  private async delete(roleName: string, policyName: string): Promise<void> {
    try {
      await this.client.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    } catch (error) {
      // Already gone (another run pruned it): the outcome wanted.
      if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw this.mapError(roleName, error);
    }
  }

  private async call<T>(roleName: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.mapError(roleName, error);
    }
  }

  private mapError(roleName: string, error: unknown) {
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

function roleNameOf(roleArn: string): string {
  const resource = roleArn.split(':').slice(5).join(':');
  return resource.slice(resource.lastIndexOf('/') + 1);
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
