import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import './schema-locale';
import { ValidationError } from './errors';
import { ANY, globOf, literalUnits, matchGlob, ONE, type Glob, type GlobUnit } from './glob';
import type { GrantPolicy } from './grant-policy';
import { DEFAULT_RETENTION_SECONDS, ttlFor, type Lease, type UnrecordedOrigin } from './lease';
import { CALLER_TAG, type SessionTag } from './session';
import { parseTemplate } from './template';

/**
 * CloudTrail's record of an STS session, as EventBridge delivers it, and what the reconciler makes
 * of it. Pure: no AWS calls here (shared/use-cases/reconcile-sessions.ts does the reading and writing).
 *
 * The shape is CloudTrail's documented one (CloudTrail userIdentity element; "Example AWS STS API
 * events in CloudTrail log" in the IAM User Guide), wrapped in EventBridge's envelope:
 *
 *   { "detail-type": "AWS API Call via CloudTrail", "source": "aws.sts", "time": ..., "detail": {
 *       "eventName": "AssumeRole", "eventTime": "2026-12-01T03:00:00Z", "eventID": "...",
 *       "userIdentity": { "type": "AssumedRole", "arn": "arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION",
 *                         "sessionContext": { "sessionIssuer": { "arn": "arn:aws:iam::ACCOUNT:role/ROLE" } } },
 *       "requestParameters": { "roleArn", "roleSessionName", "durationSeconds", "sourceIdentity", "tags": [{ "key", "value" }] },
 *       "responseElements": { "credentials": { "accessKeyId", "expiration" }, "assumedRoleUser": { "arn", "assumedRoleId" } },
 *       "errorCode"?: "AccessDenied" } }
 *
 * AssumeRoleWithWebIdentity carries `userIdentity.type: "WebIdentityUser"` with `identityProvider`
 * and `principalId` (`provider:audience:subject`) instead of an ARN. Parsing is tolerant: unknown
 * fields are ignored (CloudTrail adds fields over time), and a failed call (`errorCode`) needs only
 * its name and time, since the reconciler ignores it.
 */

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const STS_EVENT_SOURCE = 'aws.sts';
export const SESSION_EVENT_NAMES = ['AssumeRole', 'AssumeRoleWithWebIdentity'] as const;
export type SessionEventName = (typeof SESSION_EVENT_NAMES)[number];

/** STS's documented default and maximum session lengths (AssumeRole without DurationSeconds lasts 1 h). */
export const STS_DEFAULT_DURATION_SECONDS = 3600;
export const STS_MAX_DURATION_SECONDS = 43_200;
const STS_MIN_DURATION_SECONDS = 900;

const text = () => z.string().check(z.minLength(1));
const optionalText = () => z.optional(z.nullable(z.string()));

const userIdentitySchema = z.object({
  type: optionalText(),
  arn: optionalText(),
  principalId: optionalText(),
  accountId: optionalText(),
  userName: optionalText(),
  identityProvider: optionalText(),
  sessionContext: z.optional(z.nullable(z.object({ sessionIssuer: z.optional(z.nullable(z.object({ type: optionalText(), arn: optionalText() }))) }))),
});

const detailSchema = z.object({
  eventSource: z.literal('sts.amazonaws.com'),
  eventName: z.enum(SESSION_EVENT_NAMES),
  eventTime: z.string().check(z.refine((t) => !Number.isNaN(Date.parse(t)), 'must be a date and time')),
  eventID: text(),
  awsRegion: optionalText(),
  recipientAccountId: optionalText(),
  errorCode: optionalText(),
  errorMessage: optionalText(),
  userIdentity: z.optional(z.nullable(userIdentitySchema)),
  requestParameters: z.optional(
    z.nullable(
      z.object({
        roleArn: optionalText(),
        roleSessionName: optionalText(),
        sourceIdentity: optionalText(),
        durationSeconds: z.optional(z.nullable(z.number())),
        tags: z.optional(z.nullable(z.array(z.object({ key: z.string(), value: z.string() })))),
      }),
    ),
  ),
  responseElements: z.optional(
    z.nullable(
      z.object({
        credentials: z.optional(z.nullable(z.object({ accessKeyId: optionalText() }))),
        assumedRoleUser: z.optional(z.nullable(z.object({ arn: optionalText(), assumedRoleId: optionalText() }))),
        sourceIdentity: optionalText(),
      }),
    ),
  ),
});

const envelopeSchema = z.object({
  'detail-type': z.literal(CLOUDTRAIL_DETAIL_TYPE),
  source: z.literal(STS_EVENT_SOURCE),
  detail: detailSchema,
});

/** Who called STS, as CloudTrail's `userIdentity` says. */
export interface SessionCaller {
  /** `AssumedRole`, `IAMUser`, `WebIdentityUser`, `AWSService`, ... */
  readonly type?: string;
  /** The caller's ARN (an assumed-role session ARN for a role session); absent for web identities. */
  readonly arn?: string;
  readonly principalId?: string;
  /** For a role session: the role it is a session of (`arn:...:iam::ACCOUNT:role/PATH/NAME`). */
  readonly issuerArn?: string;
  /** For AssumeRoleWithWebIdentity: the OIDC provider (issuer host and path). */
  readonly identityProvider?: string;
}

/** A successful AssumeRole or AssumeRoleWithWebIdentity, as the reconciler needs it. */
export interface SessionEvent {
  readonly outcome: 'issued';
  readonly eventId: string;
  readonly eventName: SessionEventName;
  readonly eventTime: Date;
  readonly caller: SessionCaller;
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly sourceIdentity?: string;
  readonly durationSeconds?: number;
  readonly tags: readonly SessionTag[];
  readonly accessKeyId?: string;
  readonly assumedRoleArn?: string;
}

/** A call STS refused: it issued nothing, so there is nothing to reconcile. */
export interface FailedSessionEvent {
  readonly outcome: 'failed';
  readonly eventId: string;
  readonly eventName: SessionEventName;
  readonly errorCode: string;
}

/**
 * Parses one EventBridge event. Throws ValidationError `invalid_cloudtrail_event` for anything that
 * is not a CloudTrail STS session event, or a successful one without the role or session name (a
 * shape the reconciler does not understand must reach a person, never be skipped silently).
 */
export function parseSessionEvent(value: unknown): SessionEvent | FailedSessionEvent {
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new ValidationError('invalid_cloudtrail_event', `Not a CloudTrail AssumeRole event the reconciler understands: ${problems.join('; ')}`);
  }
  const d = parsed.data.detail;
  if (d.errorCode) return { outcome: 'failed', eventId: d.eventID, eventName: d.eventName, errorCode: d.errorCode };
  const request = d.requestParameters ?? {};
  const response = d.responseElements ?? {};
  if (!request.roleArn || !request.roleSessionName) {
    throw new ValidationError('invalid_cloudtrail_event', `CloudTrail event ${d.eventID} (${d.eventName}) succeeded but names no roleArn or roleSessionName.`);
  }
  const who = d.userIdentity ?? {};
  const caller = withoutEmpty({
    type: who.type,
    arn: who.arn,
    principalId: who.principalId,
    issuerArn: who.sessionContext?.sessionIssuer?.arn,
    identityProvider: who.identityProvider,
  }) as SessionCaller;
  return withoutEmpty({
    outcome: 'issued' as const,
    eventId: d.eventID,
    eventName: d.eventName,
    eventTime: new Date(d.eventTime),
    caller,
    roleArn: request.roleArn,
    roleSessionName: request.roleSessionName,
    sourceIdentity: request.sourceIdentity ?? response.sourceIdentity,
    durationSeconds: request.durationSeconds ?? undefined,
    tags: request.tags ?? [],
    accessKeyId: response.credentials?.accessKeyId,
    assumedRoleArn: response.assumedRoleUser?.arn,
  }) as SessionEvent;
}

function withoutEmpty<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== '')) as T;
}

/** A lease id: a ULID (26 characters of Crockford base32, the first at most `7`), as IdGenerator makes them. */
const LEASE_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isLeaseId(value: string): boolean {
  return LEASE_ID.test(value);
}

/** Who the broker is, in CloudTrail's terms. */
export interface BrokerPrincipals {
  /** The IAM roles of the broker's functions that call sts:AssumeRole (the VendingRoleArns output). */
  readonly roleArns: readonly string[];
  /** OIDC providers whose AssumeRoleWithWebIdentity sessions are the broker's own (issuer mode), as CloudTrail names them. */
  readonly webIdentityProviders?: readonly string[];
}

/** Role ARNs compare case-insensitively (IAM role names are), and a session's issuer is its role. */
function sameArn(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Whether the broker itself made this call: a session of one of its roles, or a token of its own issuer. */
export function isBrokerCall(event: SessionEvent, broker: BrokerPrincipals): boolean {
  const { caller } = event;
  if (event.eventName === 'AssumeRoleWithWebIdentity') {
    return caller.identityProvider !== undefined && (broker.webIdentityProviders ?? []).some((p) => sameArn(p, caller.identityProvider as string));
  }
  const roleArn = caller.type === 'AssumedRole' ? caller.issuerArn : caller.arn;
  return roleArn !== undefined && broker.roleArns.some((arn) => sameArn(arn, roleArn));
}

/**
 * Which roles count as brokered at run time: those the grant policy can vend, i.e. that match a
 * role pattern of an allow rule, each `${claim}` taken as `*`. The grant policy is what the
 * function has (grants.json beside the handler); the opt-in tag is not in the event and would take
 * an IAM call per event. A `${claim}` read as `*` may match across `/`, so this errs towards
 * flagging a few more roles, never fewer. A role that opted in but that no rule grants cannot be
 * vended either, so a session on it is not one nocreds should have minted: it is not flagged.
 */
export function brokeredRoleMatcher(grants: GrantPolicy): (roleArn: string) => boolean {
  const globs: Glob[] = [];
  for (const rule of grants.rules) {
    if (rule.effect !== 'allow' || !rule.credentials) continue;
    for (const template of rule.credentials.roles) {
      const units: GlobUnit[] = parseTemplate(template, true).flatMap((t): GlobUnit[] => (t.kind === 'text' ? literalUnits(t.text) : t.kind === 'one' ? [ONE] : [ANY]));
      globs.push(globOf(units, { caseInsensitive: true }));
    }
  }
  return (roleArn) => globs.some((glob) => matchGlob(glob, roleArn));
}

/** What a session event means for the ledger. */
export type SessionClassification =
  /** The broker's own session, named by a lease id: it must have that lease. */
  | { readonly kind: 'broker'; readonly leaseId: string }
  /** Someone else's session on a brokered role: recorded under an id derived from the event. */
  | { readonly kind: 'outside'; readonly leaseId: string }
  | { readonly kind: 'ignored'; readonly reason: 'failed_call' | 'not_a_lease_session' | 'not_a_brokered_role' };

/**
 * Classifies an event. The broker's calls whose session name is not a lease id are its own
 * plumbing (the revoker role, `nocreds-revocation`), never a credential it hands out.
 */
export function classifySessionEvent(event: SessionEvent | FailedSessionEvent, context: { readonly broker: BrokerPrincipals; readonly isBrokeredRole: (roleArn: string) => boolean }): SessionClassification {
  if (event.outcome === 'failed') return { kind: 'ignored', reason: 'failed_call' };
  if (isBrokerCall(event, context.broker)) {
    return isLeaseId(event.roleSessionName) ? { kind: 'broker', leaseId: event.roleSessionName } : { kind: 'ignored', reason: 'not_a_lease_session' };
  }
  if (!context.isBrokeredRole(event.roleArn)) return { kind: 'ignored', reason: 'not_a_brokered_role' };
  return { kind: 'outside', leaseId: outsideLeaseId(event) };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The lease id of an outside session: a ULID whose time is the event's and whose random part is
 * 80 bits of SHA-256 of CloudTrail's event id. The same event (a redelivery) always gets the same
 * id, so it is recorded once; ids still sort by time beside the broker's own. Never a session name:
 * the outside session keeps its own, recorded as `assumedRoleArn`.
 */
export function outsideLeaseId(event: Pick<SessionEvent, 'eventId' | 'eventTime'>): string {
  let time = event.eventTime.getTime();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (CROCKFORD[time % 32] as string) + head;
    time = Math.floor(time / 32);
  }
  const digest = createHash('sha256').update(event.eventId, 'utf8').digest();
  let tail = '';
  // 80 bits = 16 characters of 5 bits.
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const word = ((digest[byte] as number) << 8) | (digest[byte + 1] as number);
    tail += CROCKFORD[(word >> (11 - (bit & 7))) & 31];
  }
  return head + tail;
}

/**
 * When the session expires: its event time plus the duration it asked for (STS's default of one
 * hour when it asked for none), within STS's bounds. CloudTrail writes `expiration` in a
 * locale format ("Dec 1, 2026, 4:00:00 AM"), so the duration is the reliable source.
 */
export function sessionExpiry(event: Pick<SessionEvent, 'eventTime' | 'durationSeconds'>): Date {
  const seconds = Math.min(Math.max(event.durationSeconds ?? STS_DEFAULT_DURATION_SECONDS, STS_MIN_DURATION_SECONDS), STS_MAX_DURATION_SECONDS);
  return new Date(event.eventTime.getTime() + seconds * 1000);
}

/** `ruleId` of an unrecorded lease: no grant rule was recorded for it. */
export const UNRECORDED_RULE_ID = '(unrecorded)';

/**
 * Who a session was for. The broker's: its caller tag, else its SourceIdentity (both set by the
 * broker). An outside session's: whoever called STS, never a tag or SourceIdentity it chose itself.
 */
function callerOf(event: SessionEvent, origin: UnrecordedOrigin): string {
  const principal = event.caller.arn ?? event.caller.principalId ?? event.caller.issuerArn;
  if (origin === 'outside') return principal ?? event.sourceIdentity ?? 'unknown';
  return event.tags.find((t) => t.key === CALLER_TAG)?.value || event.sourceIdentity || principal || 'unknown';
}

/** The lease the reconciler records for a session no lease recorded. */
export function unrecordedLease(input: {
  readonly event: SessionEvent;
  readonly leaseId: string;
  readonly origin: UnrecordedOrigin;
  readonly now: Date;
  readonly reason: string;
  readonly retentionSeconds?: number;
  readonly revocationMethod?: NonNullable<Lease['revocationMethod']>;
}): Lease {
  const { event } = input;
  const expiresAt = sessionExpiry(event);
  const lease: Lease = {
    leaseId: input.leaseId,
    kind: 'credentials',
    caller: callerOf(event, input.origin),
    ruleId: UNRECORDED_RULE_ID,
    status: 'unrecorded',
    origin: input.origin,
    requestId: `cloudtrail:${event.eventId}`,
    issuedAt: event.eventTime.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ttl: ttlFor(expiresAt, input.retentionSeconds ?? DEFAULT_RETENTION_SECONDS),
    updatedAt: input.now.toISOString(),
    roleArn: event.roleArn,
    ...(event.accessKeyId ? { accessKeyId: event.accessKeyId } : {}),
    ...(event.assumedRoleArn ? { assumedRoleArn: event.assumedRoleArn } : {}),
    ...(event.sourceIdentity ? { sourceIdentity: event.sourceIdentity } : {}),
    ...(event.durationSeconds ? { durationSeconds: event.durationSeconds } : {}),
    failureReason: input.reason.slice(0, 1024),
    ...(input.revocationMethod ? { revocationMethod: input.revocationMethod } : {}),
  };
  return lease;
}
