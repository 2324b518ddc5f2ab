import fc from 'fast-check';
import {
  brokeredRoleMatcher,
  classifySessionEvent,
  isLeaseId,
  outsideLeaseId,
  parseSessionEvent,
  sessionExpiry,
  unrecordedLease,
  type SessionEvent,
} from '../../../../shared/domain/cloudtrail-session';
import { ValidationError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { SequentialIds } from '../../../fakes';
import { cloudTrailFixture, type CloudTrailEventJson, FIXTURE_GRANTS_YAML } from '../../../support/cloudtrail-fixtures';


const BROKER = { roleArns: ['arn:aws:iam::123456789012:role/Nocreds-BrokerCredentialsFunctionRole-1A2B3C4D', 'arn:aws:iam::123456789012:role/Nocreds-BrokerLeasesFunctionRole-5E6F7A8B'] };
const grants = parseGrantPolicy(`${FIXTURE_GRANTS_YAML}
  - id: no-prod
    effect: deny
    callers: [{ oidc: dev, claims: { namespace: "*" } }]
    credentials:
      roles: ["arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"]
`);
const context = { broker: BROKER, isBrokeredRole: brokeredRoleMatcher(grants) };
const issued = (name: string) => parseSessionEvent(cloudTrailFixture(name)) as SessionEvent;

describe('parseSessionEvent reads the documented EventBridge shape', () => {
  test('a broker AssumeRole: role, session, caller, key, duration, tags; the locale-formatted expiration is not trusted', () => {
    const event = issued('broker-assume-role');
    expect(event).toMatchObject({
      outcome: 'issued',
      eventId: 'a1b2c3d4-1111-4e5f-8a9b-0c1d2e3f4a5b',
      eventName: 'AssumeRole',
      roleArn: 'arn:aws:iam::123456789012:role/nocreds/team-a-app',
      roleSessionName: '01JDXK2M3N4P5Q6R7S8T9V0W1X',
      sourceIdentity: 'system.serviceaccount.team-a.api',
      durationSeconds: 900,
      accessKeyId: 'ASIAEXAMPLEVENDED001',
      assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/team-a-app/01JDXK2M3N4P5Q6R7S8T9V0W1X',
      caller: { type: 'AssumedRole', issuerArn: BROKER.roleArns[0] },
    });
    expect(event.eventTime.toISOString()).toBe('2026-12-01T03:00:00.000Z');
    expect(event.tags).toContainEqual({ key: 'nocreds:caller', value: 'system:serviceaccount:team-a:api' });
    expect(sessionExpiry(event).toISOString()).toBe('2026-12-01T03:15:00.000Z');
  });

  test('AssumeRoleWithWebIdentity: the caller is the identity provider, with no ARN', () => {
    const event = issued('outside-web-identity');
    expect(event.eventName).toBe('AssumeRoleWithWebIdentity');
    expect(event.caller).toEqual({
      type: 'WebIdentityUser',
      principalId: 'token.actions.githubusercontent.com:sts.amazonaws.com:repo:example/app:ref:refs/heads/main',
      identityProvider: 'token.actions.githubusercontent.com',
    });
  });

  test('a failed call (errorCode, responseElements null) parses as failed and is ignored', () => {
    const event = parseSessionEvent(cloudTrailFixture('broker-assume-role-failed'));
    expect(event).toEqual({ outcome: 'failed', eventId: 'a1b2c3d4-2222-4e5f-8a9b-0c1d2e3f4a5b', eventName: 'AssumeRole', errorCode: 'AccessDenied' });
    expect(classifySessionEvent(event, context)).toEqual({ kind: 'ignored', reason: 'failed_call' });
  });

  test('fields CloudTrail adds later are ignored', () => {
    const event = cloudTrailFixture('broker-assume-role');
    event.detail.somethingNew = { nested: [1, 2] };
    event.detail.requestParameters.alsoNew = true;
    expect(parseSessionEvent(event)).toMatchObject({ outcome: 'issued', roleSessionName: '01JDXK2M3N4P5Q6R7S8T9V0W1X' });
  });

  test.each([
    ['another detail-type', (e: CloudTrailEventJson) => (e['detail-type'] = 'AWS Console Sign In via CloudTrail')],
    ['another source', (e: CloudTrailEventJson) => (e.source = 'aws.iam')],
    ['another event name', (e: CloudTrailEventJson) => (e.detail.eventName = 'GetCallerIdentity')],
    ['no event time', (e: CloudTrailEventJson) => delete e.detail.eventTime],
    ['an event time that is not a date', (e: CloudTrailEventJson) => (e.detail.eventTime = 'yesterday')],
    ['a success without a session name', (e: CloudTrailEventJson) => delete e.detail.requestParameters.roleSessionName],
    ['a success without request parameters', (e: CloudTrailEventJson) => (e.detail.requestParameters = null)],
  ])('refuses %s with invalid_cloudtrail_event (a person must see it)', (_name, change) => {
    const event = cloudTrailFixture('broker-assume-role');
    change(event);
    expect(() => parseSessionEvent(event)).toThrow(ValidationError);
    expect(() => parseSessionEvent(event)).toThrow(/reconciler|roleSessionName/);
  });
});

describe('classifySessionEvent', () => {
  test("the broker's own AssumeRole under a lease id must have that lease", () => {
    expect(classifySessionEvent(issued('broker-assume-role'), context)).toEqual({ kind: 'broker', leaseId: '01JDXK2M3N4P5Q6R7S8T9V0W1X' });
  });

  test("the broker's role names compare as IAM compares them (case-insensitively)", () => {
    const upper = { ...context, broker: { roleArns: BROKER.roleArns.map((a) => a.toUpperCase()) } };
    expect(classifySessionEvent(issued('broker-assume-role'), upper).kind).toBe('broker');
  });

  test("the broker's own plumbing (the revoker role, session nocreds-revocation) is not a lease", () => {
    expect(classifySessionEvent(issued('broker-revoker-session'), context)).toEqual({ kind: 'ignored', reason: 'not_a_lease_session' });
  });

  test('someone else on a brokered role is an outside session, under an id derived from the event', () => {
    const event = issued('outside-assume-role');
    expect(classifySessionEvent(event, context)).toEqual({ kind: 'outside', leaseId: outsideLeaseId(event) });
    // A ${claim} in the rule's role pattern matches any value: team-b-app is brokered too.
    expect(classifySessionEvent(issued('outside-web-identity'), context).kind).toBe('outside');
  });

  test('a role no allow rule can vend (even one a deny rule names) is not nocreds business', () => {
    expect(classifySessionEvent(issued('unbrokered-role'), context)).toEqual({ kind: 'ignored', reason: 'not_a_brokered_role' });
  });

  test("the broker's web identity sessions are its own when its issuer is configured", () => {
    const event = issued('outside-web-identity');
    const issuerMode = { ...context, broker: { ...BROKER, webIdentityProviders: ['token.actions.githubusercontent.com'] } };
    expect(classifySessionEvent(event, issuerMode)).toEqual({ kind: 'ignored', reason: 'not_a_lease_session' });
  });

  test('a session on a brokered role by a principal that merely shares a prefix with a broker role is outside', () => {
    const event = issued('broker-assume-role');
    const lookalike = { ...event, caller: { ...event.caller, issuerArn: `${BROKER.roleArns[0]}-evil` } };
    expect(classifySessionEvent(lookalike, context).kind).toBe('outside');
  });
});

describe('lease ids', () => {
  test('the ids the broker makes are lease ids; other session names are not', () => {
    const ids = new SequentialIds();
    expect(isLeaseId(ids.next())).toBe(true);
    for (const name of ['nocreds-revocation', 'GitHubActions', '01JDXK2M3N4P5Q6R7S8T9V0W1', '01JDXK2M3N4P5Q6R7S8T9V0W1XY', '81JDXK2M3N4P5Q6R7S8T9V0W1X', '01JDXK2M3N4P5Q6R7S8T9V0W1I', '01jdxk2m3n4p5q6r7s8t9v0w1x']) {
      expect(isLeaseId(name)).toBe(false);
    }
  });

  test('property: an outside id is a lease id, fixed by the event, distinct across events, and sorts by event time (seed fixed)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (a, b, t1, t2) => {
        const one = outsideLeaseId({ eventId: a, eventTime: new Date(t1) });
        expect(isLeaseId(one)).toBe(true);
        expect(outsideLeaseId({ eventId: a, eventTime: new Date(t1) })).toBe(one);
        if (a !== b) expect(outsideLeaseId({ eventId: b, eventTime: new Date(t1) })).not.toBe(one);
        const two = outsideLeaseId({ eventId: b, eventTime: new Date(t2) });
        if (t1 < t2) expect(one.slice(0, 10) < two.slice(0, 10)).toBe(true);
      }),
      { seed: 20_261_201, numRuns: 300 },
    );
  });
});

describe('sessionExpiry and unrecordedLease', () => {
  test("without a duration, STS's default hour; a duration is kept within STS's bounds", () => {
    const eventTime = new Date('2026-12-01T03:00:00Z');
    expect(sessionExpiry({ eventTime }).toISOString()).toBe('2026-12-01T04:00:00.000Z');
    expect(sessionExpiry({ eventTime, durationSeconds: 10 }).toISOString()).toBe('2026-12-01T03:15:00.000Z');
    expect(sessionExpiry({ eventTime, durationSeconds: 10 ** 9 }).toISOString()).toBe('2026-12-01T15:00:00.000Z');
  });

  test("a broker session's lease says who it was for (the caller tag), the role, the key and the event", () => {
    const event = issued('broker-assume-role');
    const now = new Date('2026-12-01T03:05:00Z');
    const lease = unrecordedLease({ event, leaseId: event.roleSessionName, origin: 'broker', now, reason: 'why' });
    expect(lease).toEqual({
      leaseId: '01JDXK2M3N4P5Q6R7S8T9V0W1X',
      kind: 'credentials',
      caller: 'system:serviceaccount:team-a:api',
      ruleId: '(unrecorded)',
      status: 'unrecorded',
      origin: 'broker',
      requestId: 'cloudtrail:a1b2c3d4-1111-4e5f-8a9b-0c1d2e3f4a5b',
      issuedAt: '2026-12-01T03:00:00.000Z',
      expiresAt: '2026-12-01T03:15:00.000Z',
      ttl: Date.parse('2026-12-01T03:15:00Z') / 1000 + 90 * 24 * 3600,
      updatedAt: '2026-12-01T03:05:00.000Z',
      roleArn: 'arn:aws:iam::123456789012:role/nocreds/team-a-app',
      accessKeyId: 'ASIAEXAMPLEVENDED001',
      assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/team-a-app/01JDXK2M3N4P5Q6R7S8T9V0W1X',
      sourceIdentity: 'system.serviceaccount.team-a.api',
      durationSeconds: 900,
      failureReason: 'why',
    });
  });

  test("an outside session's lease names whoever called STS, never a caller tag it may have set", () => {
    const event = issued('outside-assume-role');
    const spoofed = { ...event, tags: [{ key: 'nocreds:caller', value: 'someone-innocent' }] };
    const lease = unrecordedLease({ event: spoofed, leaseId: outsideLeaseId(event), origin: 'outside', now: new Date(), reason: 'r' });
    expect(lease.caller).toBe('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.org');
    const web = issued('outside-web-identity');
    expect(unrecordedLease({ event: web, leaseId: outsideLeaseId(web), origin: 'outside', now: new Date(), reason: 'r' }).caller).toBe(
      'token.actions.githubusercontent.com:sts.amazonaws.com:repo:example/app:ref:refs/heads/main',
    );
  });
});
