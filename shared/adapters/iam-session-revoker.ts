import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  DeleteRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ConfigurationError, DependencyDeniedError } from '../domain/errors';
import { STS_LIMITS } from '../domain/session';
import type { SessionBlock, SessionRevoker } from '../ports';
import { errorName, mapSdkError } from './sdk-errors';

/** IAM's limit on the aggregate size of a role's inline policies (characters, whitespace not counted). */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;

export interface IamSessionRevokerOptions {
  /** The broker-managed inline policy's name on each opted-in role. */
  readonly policyName: string;
  /** Override for tests; IAM's real limit by default. */
  readonly maxPolicyChars?: number;
  /** The longest session the broker vends: a cut-off is kept this long (role chaining caps it at 1 h). */
  readonly maxSessionSeconds?: number;
  /** Writes are re-read and retried this many times when a concurrent writer replaced them. */
  readonly maxAttempts?: number;
}

/** One revoked session: denied until `until` (epoch seconds), when it would have expired anyway. */
interface SessionEntry {
  readonly kind: 'session';
  readonly userId: string;
  readonly sessionName: string;
  readonly until: number;
}

/** Every session of the role issued before `issuedBefore` (epoch seconds) is denied until `until`. */
interface CutoffEntry {
  readonly kind: 'cutoff';
  readonly issuedBefore: number;
  readonly until: number;
}

type Entry = SessionEntry | CutoffEntry;

const ISSUE_SLACK_SECONDS = 60;
const SESSION_SID = /^Lease([A-Za-z0-9]+)Until(\d+)$/;
const CUTOFF_SID = /^IssuedBefore(\d+)Until(\d+)$/;

/**
 * Blocks STS sessions with a broker-managed inline policy on the role they were issued for:
 *
 *   { "Sid": "Lease<leaseId>Until<epoch>", "Effect": "Deny", "Action": "*", "Resource": "*",
 *     "Condition": { "StringEquals": { "aws:userid": "<ROLE_ID>:<leaseId>" } } }
 *
 * `aws:userid` of a role session is the role's unique id and the session name, which the broker
 * sets to the lease id, so the deny hits that one session and nothing else. The Sid carries when
 * the session expires, so entries can be pruned from the policy alone. When one more entry would
 * take the role's inline policies past IAM's 10,240-character limit, the entries are replaced by
 * one cut-off: deny when `aws:TokenIssueTime` is before now, which blocks every session of the
 * role issued so far (the revoked ones included), kept for the longest session the broker vends.
 *
 * The broker needs iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:PutRolePolicy and
 * iam:DeleteRolePolicy on the opted-in roles only; infra grants exactly that.
 */
export class IamSessionRevoker implements SessionRevoker {
  private readonly roleIds = new Map<string, string>();
  private readonly maxPolicyChars: number;
  private readonly maxSessionSeconds: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly client: IAMClient,
    private readonly options: IamSessionRevokerOptions,
  ) {
    this.maxPolicyChars = options.maxPolicyChars ?? ROLE_INLINE_POLICY_LIMIT;
    this.maxSessionSeconds = options.maxSessionSeconds ?? STS_LIMITS.maxChainedDurationSeconds;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  async block(request: { roleArn: string; roleSessionName: string; issuedAt: Date; expiresAt: Date; now: Date }): Promise<SessionBlock> {
    const roleName = roleNameOf(request.roleArn);
    const userId = `${await this.roleId(roleName)}:${request.roleSessionName}`;
    const now = epoch(request.now);
    // Read-modify-write without a condition (IAM has none): re-read and retry until our entry is there.
    for (let attempt = 1; ; attempt++) {
      const current = (await this.readEntries(roleName)).filter((e) => e.until > now);
      let block: SessionBlock;
      let entries: Entry[];
      // The lease is written just before STS is called: allow for the call's time.
      const existingCutoff = current.find((e): e is CutoffEntry => e.kind === 'cutoff' && e.issuedBefore >= epoch(request.issuedAt) + ISSUE_SLACK_SECONDS);
      if (current.some((e) => e.kind === 'session' && e.userId === userId)) {
        return { method: 'session-deny', policyName: this.options.policyName };
      }
      if (existingCutoff) {
        return { method: 'token-issue-time-cutoff', policyName: this.options.policyName, issuedBefore: new Date(existingCutoff.issuedBefore * 1000).toISOString() };
      }
      entries = [...current, { kind: 'session', userId, sessionName: request.roleSessionName, until: Math.max(epoch(request.expiresAt), now + 1) }];
      block = { method: 'session-deny', policyName: this.options.policyName };
      const room = this.maxPolicyChars - (await this.otherPoliciesSize(roleName));
      if (renderRevocationPolicy(entries).length > room) {
        // Every session revoked so far was issued before now, so one cut-off covers them all.
        const cutoff: CutoffEntry = { kind: 'cutoff', issuedBefore: now, until: Math.max(now + this.maxSessionSeconds, ...entries.map((e) => e.until)) };
        entries = [cutoff];
        block = { method: 'token-issue-time-cutoff', policyName: this.options.policyName, issuedBefore: request.now.toISOString() };
        if (renderRevocationPolicy(entries).length > room) {
          throw new ConfigurationError('revocation_policy_no_room', `Role ${roleName}'s other inline policies leave no room for the broker's deny policy under IAM's ${this.maxPolicyChars}-character limit.`);
        }
      }
      await this.write(roleName, entries);
      const written = await this.readEntries(roleName);
      const present =
        block.method === 'session-deny'
          ? written.some((e) => e.kind === 'session' && e.userId === userId)
          : written.some((e) => e.kind === 'cutoff' && e.issuedBefore >= now);
      if (present) return block;
      if (attempt >= this.maxAttempts) {
        throw mapSdkError('IAM', Object.assign(new Error(`The deny for ${userId} was overwritten by a concurrent change ${attempt} times.`), { name: 'InternalFailure' }));
      }
    }
  }

  async prune(roleArn: string, now: Date): Promise<number> {
    const roleName = roleNameOf(roleArn);
    const entries = await this.readEntries(roleName);
    const kept = entries.filter((e) => e.until > epoch(now));
    const removed = entries.length - kept.length;
    if (removed > 0) await this.write(roleName, kept);
    return removed;
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

  private async readEntries(roleName: string): Promise<Entry[]> {
    let document: string | undefined;
    try {
      const out = await this.client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: this.options.policyName }));
      document = out.PolicyDocument;
    } catch (error) {
      if (errorName(error) === 'NoSuchEntityException' || errorName(error) === 'NoSuchEntity') return [];
      throw this.mapError(roleName, error);
    }
    return document ? parseEntries(decodePolicy(document)) : [];
  }

  private async otherPoliciesSize(roleName: string): Promise<number> {
    const names = await this.call(roleName, () => this.client.send(new ListRolePoliciesCommand({ RoleName: roleName })));
    let size = 0;
    for (const name of names.PolicyNames ?? []) {
      if (name === this.options.policyName) continue;
      const out = await this.call(roleName, () => this.client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
      size += minifiedLength(decodePolicy(out.PolicyDocument ?? '{}'));
    }
    return size;
  }

  private async write(roleName: string, entries: Entry[]): Promise<void> {
    if (entries.length === 0) {
      try {
        await this.client.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: this.options.policyName }));
      } catch (error) {
        if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw this.mapError(roleName, error);
      }
      return;
    }
    await this.call(roleName, () => this.client.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: this.options.policyName, PolicyDocument: renderRevocationPolicy(entries) })));
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
      return new DependencyDeniedError('revocation_not_permitted', `The broker may not manage the deny policy of role ${roleName}; only roles that opted in to revocation allow it.`, { cause: error });
    }
    if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') {
      return new DependencyDeniedError('role_not_found', `Role ${roleName} does not exist (any session of a deleted role is already unusable).`, { cause: error });
    }
    return mapSdkError('IAM', error);
  }
}

function roleNameOf(roleArn: string): string {
  const resource = roleArn.split(':').slice(5).join(':');
  return resource.slice(resource.lastIndexOf('/') + 1);
}

function epoch(date: Date): number {
  return Math.ceil(date.getTime() / 1000);
}

/** The policy document for `entries`, minified as IAM counts it. */
export function renderRevocationPolicy(entries: readonly Entry[]): string {
  const statements = entries.map((e) =>
    e.kind === 'session'
      ? { Sid: `Lease${e.sessionName.replace(/[^A-Za-z0-9]/g, '')}Until${e.until}`, Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:userid': e.userId } } }
      : { Sid: `IssuedBefore${e.issuedBefore}Until${e.until}`, Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': new Date(e.issuedBefore * 1000).toISOString() } } },
  );
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
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

/** Entries of a policy this adapter wrote; statements it does not recognise are dropped with it. */
function parseEntries(json: string): Entry[] {
  const doc = JSON.parse(json) as { Statement?: Array<{ Sid?: string; Condition?: { StringEquals?: Record<string, string> } }> };
  const entries: Entry[] = [];
  for (const statement of doc.Statement ?? []) {
    const session = SESSION_SID.exec(statement.Sid ?? '');
    const userId = statement.Condition?.StringEquals?.['aws:userid'];
    if (session && userId) {
      entries.push({ kind: 'session', userId, sessionName: userId.slice(userId.indexOf(':') + 1), until: Number(session[2]) });
      continue;
    }
    const cutoff = CUTOFF_SID.exec(statement.Sid ?? '');
    if (cutoff) entries.push({ kind: 'cutoff', issuedBefore: Number(cutoff[1]), until: Number(cutoff[2]) });
  }
  return entries;
}
