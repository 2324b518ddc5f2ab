import * as fc from 'fast-check';
import { evaluateCredentials } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { OidcIdentity } from '../../../../shared/domain/identity';
import { oidcIdentityFromClaims } from '../../../../shared/domain/oidc';
import type { CompiledSession } from '../../../../shared/domain/session';
import { DEFAULT_REFRESH_WINDOW_SECONDS, SessionReuse, type ReusableResult } from '../../../../shared/use-cases/session-reuse';
import { vendCredentials, type VendedCredentials } from '../../../../shared/use-cases/vend-credentials';
import { FixedClock, InMemoryLeaseStore, RecordingRoleAssumer, SequentialIds } from '../../../fakes';

const SESSION: CompiledSession = {
  roleArn: 'arn:aws:iam::111122223333:role/app',
  sourceIdentity: 'k8s.team-a.api',
  durationSeconds: 3600,
  policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
  policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  tags: [
    { key: 'nocreds:caller', value: 'k8s:team-a:api' },
    { key: 'team', value: 'a' },
  ],
};

describe('key', () => {
  const reuse = new SessionReuse(new FixedClock());
  const base = reuse.key('k8s:team-a:api', 'rule-1', SESSION);

  test('is stable for the same caller, rule and compiled session', () => {
    expect(reuse.key('k8s:team-a:api', 'rule-1', { ...SESSION, tags: [...SESSION.tags] })).toBe(base);
  });

  test.each<[string, string, string, CompiledSession]>([
    ['another caller', 'k8s:team-b:api', 'rule-1', SESSION],
    ['another rule', 'k8s:team-a:api', 'rule-2', SESSION],
    ['another role', 'k8s:team-a:api', 'rule-1', { ...SESSION, roleArn: 'arn:aws:iam::111122223333:role/other' }],
    ['another SourceIdentity', 'k8s:team-a:api', 'rule-1', { ...SESSION, sourceIdentity: 'k8s.team-b.api' }],
    ['another duration', 'k8s:team-a:api', 'rule-1', { ...SESSION, durationSeconds: 900 }],
    ['another inline policy', 'k8s:team-a:api', 'rule-1', { ...SESSION, policy: SESSION.policy?.replace('GetObject', 'PutObject') }],
    ['no inline policy', 'k8s:team-a:api', 'rule-1', { ...SESSION, policy: undefined }],
    ['other managed ARNs', 'k8s:team-a:api', 'rule-1', { ...SESSION, policyArns: [] }],
    ['a tag value', 'k8s:team-a:api', 'rule-1', { ...SESSION, tags: [SESSION.tags[0]!, { key: 'team', value: 'b' }] }],
    ['a tag key', 'k8s:team-a:api', 'rule-1', { ...SESSION, tags: [SESSION.tags[0]!, { key: 'squad', value: 'a' }] }],
    ['one tag more', 'k8s:team-a:api', 'rule-1', { ...SESSION, tags: [...SESSION.tags, { key: 'x', value: '' }] }],
  ])('differs for %s', (_what, caller, ruleId, session) => {
    expect(reuse.key(caller, ruleId, session)).not.toBe(base);
  });
});

interface Result extends ReusableResult {
  readonly n: number;
}

describe('reusable results', () => {
  const start = Date.parse('2030-01-01T00:00:00Z');
  const result = (n: number, expiresInSeconds: number): Result => ({ n, leaseId: `lease-${n}`, expiration: new Date(start + expiresInSeconds * 1000) });

  test('a result is reused while more than the refresh window (15 minutes by default) remains, and not after', () => {
    const clock = new FixedClock(start);
    const reuse = new SessionReuse<Result>(clock);
    expect(DEFAULT_REFRESH_WINDOW_SECONDS).toBe(900);
    reuse.remember('k', result(1, 3600));
    clock.set(start + (3600 - 901) * 1000);
    expect(reuse.reusable('k')?.n).toBe(1);
    clock.set(start + (3600 - 900) * 1000);
    expect(reuse.reusable('k')).toBeUndefined();
    // Dropped, not merely hidden: a clock read earlier again does not bring it back.
    clock.set(start);
    expect(reuse.reusable('k')).toBeUndefined();
  });

  test('the refresh window can be set', () => {
    const clock = new FixedClock(start);
    const reuse = new SessionReuse<Result>(clock, 60);
    reuse.remember('k', result(1, 61));
    expect(reuse.reusable('k')?.n).toBe(1);
    clock.advanceSeconds(1);
    expect(reuse.reusable('k')).toBeUndefined();
  });

  test('an unknown key, or a forgotten one, has nothing', () => {
    const reuse = new SessionReuse<Result>(new FixedClock(start));
    expect(reuse.reusable('nope')).toBeUndefined();
    reuse.remember('k', result(1, 3600));
    reuse.forget('k');
    expect(reuse.reusable('k')).toBeUndefined();
  });

  test('at most 10,000 results are kept; when full, expired ones make room, live ones are not dropped', () => {
    const clock = new FixedClock(start);
    const reuse = new SessionReuse<Result>(clock);
    for (let i = 0; i < 9_999; i++) reuse.remember(`live-${i}`, result(i, 3600));
    reuse.remember('short', result(-1, 1000));
    reuse.remember('one-too-many', result(10_000, 3600));
    expect(reuse.reusable('one-too-many')).toBeUndefined();
    expect(reuse.reusable('short')?.n).toBe(-1);
    // 'short' now has no more than the window left: it is evicted to make room.
    clock.advanceSeconds(100);
    reuse.remember('after-eviction', result(10_001, 3600));
    expect(reuse.reusable('after-eviction')?.n).toBe(10_001);
    expect(reuse.reusable('live-0')?.n).toBe(0);
    expect(reuse.reusable('live-9998')?.n).toBe(9_998);
  });

  test('eviction takes exactly the results within the refresh window', () => {
    const clock = new FixedClock(start);
    const reuse = new SessionReuse<Result>(clock);
    for (let i = 0; i < 9_998; i++) reuse.remember(`live-${i}`, result(i, 3600));
    reuse.remember('at-window', result(-1, 900));
    reuse.remember('past-window', result(-2, 901));
    reuse.remember('new', result(1, 3600));
    // 'at-window' made room; 'past-window' (901 s left) stays.
    expect(reuse.reusable('new')?.n).toBe(1);
    expect(reuse.reusable('past-window')?.n).toBe(-2);
    reuse.remember('newer', result(2, 3600));
    expect(reuse.reusable('newer')).toBeUndefined();
  });
});

describe('share', () => {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const later = new Date(Date.parse('2030-01-01T01:00:00Z'));

  test('concurrent calls with one key make one call and get its result, which is remembered', async () => {
    const reuse = new SessionReuse<Result>(clock);
    let calls = 0;
    let release: (r: Result) => void = () => undefined;
    const vend = () => {
      calls++;
      return new Promise<Result>((resolve) => (release = resolve));
    };
    const both = Promise.all([reuse.share('k', vend), reuse.share('k', vend)]);
    release({ n: 1, leaseId: 'l1', expiration: later });
    expect((await both).map((r) => r.n)).toEqual([1, 1]);
    expect(calls).toBe(1);
    expect(reuse.reusable('k')?.n).toBe(1);
    // Once settled, the next share runs again (reuse of a settled result is the caller's check).
    await reuse.share('k', async () => ({ n: 2, leaseId: 'l2', expiration: later }));
    expect(reuse.reusable('k')?.n).toBe(2);
  });

  test('a failed call is shared by its concurrent callers, not remembered, and not kept in flight', async () => {
    const reuse = new SessionReuse<Result>(clock);
    const failure = new Error('sts down');
    let calls = 0;
    const vend = async () => {
      calls++;
      throw failure;
    };
    const results = await Promise.allSettled([reuse.share('k', vend), reuse.share('k', vend)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(reuse.reusable('k')).toBeUndefined();
    await expect(reuse.share('k', async () => ({ n: 3, leaseId: 'l3', expiration: later }))).resolves.toMatchObject({ n: 3 });
  });
});

/**
 * The invariant: two identities of one caller that differ in any attribute a template of their
 * grant reads never share a session; identical ones do. Grants read attributes in their session
 * policy, their session tags, or both.
 */
describe('property: reuse follows what the grant reads', () => {
  const ATTRIBUTES = ['team', 'project', 'sessionName', 'email'] as const;
  const VALUES = ['a', 'b', 'alice', 'bob'];
  const ROLE = 'arn:aws:iam::111122223333:role/app';

  function grantReading(inPolicy: readonly string[], inTags: readonly string[]) {
    const resources = inPolicy.length === 0 ? ['arn:aws:s3:::shared/*'] : inPolicy.map((a) => `arn:aws:s3:::data/\${${a}}/*`);
    const tags = Object.fromEntries(inTags.map((a) => [`t-${a}`, `\${${a}}`]));
    return parseGrantPolicy(
      JSON.stringify({
        version: 1,
        issuers: [{ id: 'idp', url: 'https://idp.example.com', audiences: ['nocreds'] }],
        rules: [{ id: 'r', callers: [{ oidc: 'idp' }], credentials: { roles: [ROLE], sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] }, sessionTags: tags } }],
      }),
    );
  }

  const identity = (attributes: Record<string, string>): OidcIdentity => ({
    kind: 'oidc',
    issuerId: 'idp',
    issuer: 'https://idp.example.com',
    subject: 'shared-subject',
    caller: 'idp:shared-subject',
    attributes: { ...attributes, sub: 'shared-subject' },
  });

  const valuesArb = fc.record(Object.fromEntries(ATTRIBUTES.map((a) => [a, fc.constantFrom(...VALUES)])) as Record<(typeof ATTRIBUTES)[number], fc.Arbitrary<string>>);

  test('never shared when a read attribute differs; shared when all read attributes agree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...ATTRIBUTES]),
        fc.subarray([...ATTRIBUTES]),
        valuesArb,
        valuesArb,
        fc.boolean(),
        async (inPolicy, inTags, first, second, concurrent) => {
          const clock = new FixedClock('2030-01-01T00:00:00Z');
          const deps = {
            grants: grantReading(inPolicy, inTags),
            roleAssumer: new RecordingRoleAssumer(clock),
            leases: new InMemoryLeaseStore(),
            clock,
            ids: new SequentialIds(),
            reuse: new SessionReuse<VendedCredentials>(clock),
          };
          const vend = (attributes: Record<string, string>, requestId: string) => vendCredentials(deps, { identity: identity(attributes), requestId, roleArn: ROLE });
          const [a, b] = concurrent ? await Promise.all([vend(first, 'r1'), vend(second, 'r2')]) : [await vend(first, 'r1'), await vend(second, 'r2')];
          const read = new Set([...inPolicy, ...inTags]);
          const sameWhereRead = [...read].every((name) => first[name as keyof typeof first] === second[name as keyof typeof second]);
          expect(a.leaseId === b.leaseId).toBe(sameWhereRead);
          expect(a.accessKeyId === b.accessKeyId).toBe(sameWhereRead);
          expect(deps.roleAssumer.callCount).toBe(sameWhereRead ? 1 : 2);
        },
      ),
      { seed: 20_261_202, numRuns: 300 },
    );
  });
});

describe('property: reuse follows the list claims the rules read', () => {
  // Two callers with one caller id (the same subject) whose groups claim differs: a deny rule and
  // two allow rules read it. The decision is made for each request before any reuse, so a caller a
  // deny rule stops never gets the other's session, and two callers granted by different rules
  // never share one (the rule is in the key); callers granted by the same rule share.
  const ROLE = 'arn:aws:iam::111122223333:role/app';
  const grants = parseGrantPolicy(
    JSON.stringify({
      version: 1,
      issuers: [{ id: 'idp', url: 'https://idp.example.com', audiences: ['nocreds'] }],
      rules: [
        { id: 'no-contractors', effect: 'deny', callers: [{ oidc: 'idp', claims: { groups: 'contractors' } }] },
        { id: 'platform', callers: [{ oidc: 'idp', claims: { groups: 'platform-*' } }], credentials: { roles: [ROLE] } },
        { id: 'base', callers: [{ oidc: 'idp' }], credentials: { roles: [ROLE] } },
      ],
    }),
  );
  const issuer = grants.issuers[0] as (typeof grants.issuers)[number];
  const group = fc.constantFrom('contractors', 'platform-core', 'platform-x', 'staff');
  const groupsArb = fc.oneof(fc.constant(undefined), group, fc.array(group, { maxLength: 3 }), fc.constant({ contractors: true }), fc.array(fc.oneof(group, fc.constant(null)), { maxLength: 2 }));

  test('never shared when the groups claim changes which rule applies; a denied caller never gets a session', async () => {
    await fc.assert(
      fc.asyncProperty(groupsArb, groupsArb, fc.boolean(), async (first, second, concurrent) => {
        const clock = new FixedClock('2030-01-01T00:00:00Z');
        const deps = { grants, roleAssumer: new RecordingRoleAssumer(clock), leases: new InMemoryLeaseStore(), clock, ids: new SequentialIds(), reuse: new SessionReuse<VendedCredentials>(clock) };
        const who = (groups: unknown) => oidcIdentityFromClaims(issuer, { sub: 'shared-subject', ...(groups === undefined ? {} : { groups }) });
        const vend = (groups: unknown, requestId: string) => vendCredentials(deps, { identity: who(groups), requestId, roleArn: ROLE }).catch(() => undefined);
        const [a, b] = concurrent ? await Promise.all([vend(first, 'r1'), vend(second, 'r2')]) : [await vend(first, 'r1'), await vend(second, 'r2')];
        const decided = [first, second].map((groups) => evaluateCredentials(grants, who(groups), ROLE));
        expect([a !== undefined, b !== undefined]).toEqual(decided.map((d) => d.allowed));
        if (a && b) {
          expect(a.ruleId).toBe(decided[0]?.ruleId);
          expect(b.ruleId).toBe(decided[1]?.ruleId);
          expect(a.leaseId === b.leaseId).toBe(a.ruleId === b.ruleId);
        }
        expect(deps.roleAssumer.callCount).toBe(a && b && a.ruleId === b.ruleId ? 1 : [a, b].filter(Boolean).length);
      }),
      { seed: 20_261_203, numRuns: 200 },
    );
  });
});
