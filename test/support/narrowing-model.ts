import { runSimulation } from '@cloud-copilot/iam-simulate';
import * as fc from 'fast-check';
import { ValidationError } from '../../shared/domain/errors';
import {
  statementsOf,
  type GrantedSessionPolicies,
  type PolicyDocument,
  type PolicyStatement,
  type RequestedSessionPolicies,
  type SessionPolicies,
} from '../../shared/domain/session-policy';

/**
 * The property "the caller can only narrow" (docs/narrowing.md), checked against an independent
 * IAM evaluator (@cloud-copilot/iam-simulate) rather than against our own reading of IAM.
 *
 * For a random grant (inline statements and managed ARNs, each ARN with a fixture document) and a
 * random caller request built partly from the grant's own strings, `narrowSessionPolicies` either
 * refuses or says what STS will receive. Then, for random probes (action, resource, context
 * values), whenever the session STS would receive allows the probe, the grant's own session must
 * allow it too. The role allows everything, so the session policies alone decide. Session
 * policies are a union: all of a session's documents (inline and managed) are one document
 * holding all their statements (any Allow allows, any Deny denies).
 *
 * Managed fixture documents hold Allow statements only: the broker does not read managed policy
 * documents, and docs/narrowing.md states that a grant's managed policies are taken as Allow-only
 * (a Deny meant to hold must be in the grant's inline policy or on the role).
 */

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/app/session`;
const ROLE_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
export const MANAGED_ARNS = ['arn:aws:iam::aws:policy/P1', 'arn:aws:iam::aws:policy/P2', `arn:aws:iam::${ACCOUNT}:policy/P3`, `arn:aws:iam::${ACCOUNT}:policy/P4`];

// --- strings the generators draw from ------------------------------------------------------

const ACTION_PATTERNS = [
  '*', 's3:*', 's3:Get*', 's3:GetObject', 's3:PutObject', 's3:?etObject', 'S3:GETOBJECT', 's3:*Object', 's3:List*', 's3:ListBucket',
  'sqs:*', 'sqs:SendMessage', 'sqs:*Message', 'iam:*', 'iam:CreateUser', 'iam:Get*',
];
const BUCKETS = ['data', 'dat?', 'data*', '*', 'logs', 'd*', 'data-${aws:username}'];
const KEYS = ['*', 'a/*', 'a/b', '${aws:username}/*', '${aws:userid}/*', 'a/${aws:username}', '${*}/x', 'x${?}', '?/*', 'a*', '${aws:PrincipalTag/team}/*', '${aws:username}', 'a/b/*', 'cost$/x', 'cost${$}/x'];
const REGIONS = ['us-east-1', 'eu-west-1', '*', 'us-*', '?s-east-1'];
const ACCOUNTS = [ACCOUNT, '*', '1234567890??'];
const QUEUES = ['q1', 'q*', '${aws:username}', '*', 'q?'];
const USERS = ['alice', '*', '${aws:username}', 'a*', 'team/${aws:PrincipalTag/team}'];
const CONDITIONS: PolicyStatement['Condition'][] = [
  { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
  { StringLike: { 'aws:PrincipalTag/team': 'a*' } },
  { Bool: { 'aws:SecureTransport': 'true' } },
  { StringEquals: { 'aws:username': 'alice' } },
];
const FILLERS = ['', 'x', 'a/b', 'alice', 'bob/x', 'q1'];

const one = <T>(items: readonly T[]) => fc.constantFrom(...items);
const listOrOne = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 3 }).map((xs) => (xs.length === 1 ? (xs[0] as T) : xs));

const s3Resource = fc.tuple(one(BUCKETS), fc.option(one(KEYS), { nil: undefined })).map(([b, k]) => `arn:aws:s3:::${b}${k === undefined ? '' : `/${k}`}`);
const sqsResource = fc.tuple(one(REGIONS), one(ACCOUNTS), one(QUEUES)).map(([r, a, q]) => `arn:aws:sqs:${r}:${a}:${q}`);
const iamResource = fc.tuple(one(ACCOUNTS), one(USERS)).map(([a, u]) => `arn:aws:iam::${a}:user/${u}`);
const resourcePattern = fc.oneof(
  { arbitrary: s3Resource, weight: 5 },
  { arbitrary: sqsResource, weight: 2 },
  { arbitrary: iamResource, weight: 2 },
  { arbitrary: one(['*', 'arn:aws:sqs:*', 'arn:aws:s3:::*']), weight: 1 },
);

function statementArb(effect: fc.Arbitrary<'Allow' | 'Deny'>): fc.Arbitrary<PolicyStatement> {
  return fc
    .record({
      Effect: effect,
      actions: listOrOne(one(ACTION_PATTERNS)),
      useNotAction: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      resources: listOrOne(resourcePattern),
      useNotResource: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
      condition: fc.option(one(CONDITIONS), { nil: undefined, freq: 3 }),
    })
    .map(({ Effect, actions, useNotAction, resources, useNotResource, condition }) => ({
      Effect,
      ...(useNotAction ? { NotAction: actions } : { Action: actions }),
      ...(useNotResource ? { NotResource: resources } : { Resource: resources }),
      ...(condition === undefined ? {} : { Condition: condition }),
    }));
}

export interface Grant extends GrantedSessionPolicies {
  /** The managed policies' documents, by ARN (Allow statements only; see above). */
  readonly fixtures: Readonly<Record<string, PolicyDocument>>;
}

const doc = (statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

export const grantArb: fc.Arbitrary<Grant> = fc
  .record({
    shape: one(['inline', 'managed', 'both', 'neither', 'inline', 'both'] as const),
    statements: fc.array(statementArb(fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Allow', 'Deny')), { minLength: 1, maxLength: 3 }),
    arns: fc.subarray(MANAGED_ARNS, { minLength: 1, maxLength: 3 }),
    fixtures: fc.tuple(...MANAGED_ARNS.map(() => fc.array(statementArb(fc.constant<'Allow' | 'Deny'>('Allow')), { minLength: 1, maxLength: 2 }))),
  })
  .map(({ shape, statements, arns, fixtures }) => ({
    sessionPolicy: shape === 'inline' || shape === 'both' ? doc(statements) : undefined,
    policyArns: shape === 'managed' || shape === 'both' ? arns : [],
    fixtures: Object.fromEntries(MANAGED_ARNS.map((arn, i) => [arn, doc(fixtures[i] as PolicyStatement[])])),
  }));

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A caller Allow built from one of the grant's Allow statements: a sub-list, narrowed, conditions usually kept. */
function derivedAllowArb(grant: Grant): fc.Arbitrary<PolicyStatement> | undefined {
  const allows = grant.sessionPolicy === undefined ? [] : statementsOf(grant.sessionPolicy).filter((s) => s.Effect === 'Allow');
  if (allows.length === 0) return undefined;
  return fc
    .record({
      source: one(allows),
      actionPick: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
      concreteAction: one(['s3:GetObject', 's3:ListBucket', 'sqs:SendMessage', 'iam:CreateUser', 'iam:GetUser', 's3:PutObject']),
      resourcePick: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
      narrowing: one(['keep', 'keep', 'suffix', 'prefix', 'concrete'] as const),
      concreteResource: one(['arn:aws:s3:::data/a/b', 'arn:aws:s3:::logs', 'arn:aws:sqs:us-east-1:123456789012:q1', 'arn:aws:iam::123456789012:user/alice', 'arn:aws:s3:::public/x']),
      keepCondition: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
      extraCondition: fc.option(one(CONDITIONS), { nil: undefined, freq: 4 }),
    })
    .map(({ source, actionPick, concreteAction, resourcePick, narrowing, concreteResource, keepCondition, extraCondition }) => {
      const actions = source.Action === undefined ? [concreteAction] : actionPick.map((i) => list(source.Action)[i % list(source.Action).length] as string);
      const sourceResources = source.Resource === undefined ? [concreteResource] : list(source.Resource);
      const resources = resourcePick.map((i) => {
        const r = sourceResources[i % sourceResources.length] as string;
        if (narrowing === 'suffix') return r.endsWith('*') ? `${r.slice(0, -1)}x/*` : r;
        if (narrowing === 'prefix') return r.replace('*', 'a*');
        if (narrowing === 'concrete') return concreteResource;
        return r;
      });
      const condition = { ...(keepCondition ? source.Condition : {}), ...(extraCondition ?? {}) };
      return {
        Effect: 'Allow' as const,
        Action: actions,
        Resource: resources,
        ...(Object.keys(condition).length === 0 ? {} : { Condition: condition }),
      };
    });
}

export function requestArb(grant: Grant): fc.Arbitrary<RequestedSessionPolicies> {
  const derived = derivedAllowArb(grant);
  const statement = fc.oneof(
    ...(derived ? [{ arbitrary: derived, weight: 5 }] : []),
    { arbitrary: statementArb(fc.constant<'Allow' | 'Deny'>('Allow')), weight: 1 },
    { arbitrary: statementArb(fc.constant<'Allow' | 'Deny'>('Deny')), weight: 2 },
  );
  const policy = fc.option(fc.array(statement, { minLength: 1, maxLength: 3 }).map(doc), { nil: undefined, freq: 3 });
  const others = MANAGED_ARNS.filter((a) => !grant.policyArns.includes(a));
  const granted = grant.policyArns.length > 0;
  const policyArns = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: fc.subarray([...grant.policyArns], { minLength: granted ? 1 : 0 }), weight: granted ? 4 : 1 },
    { arbitrary: fc.constant([]), weight: 1 },
    { arbitrary: fc.tuple(fc.subarray([...grant.policyArns]), one(others.length > 0 ? others : MANAGED_ARNS)).map(([a, b]) => [...a, b]), weight: 1 },
  );
  return fc.record({ policy, policyArns }).map(({ policy: p, policyArns: a }) => ({ ...(p ? { policy: p } : {}), ...(a ? { policyArns: a } : {}) }));
}

export interface Probe {
  readonly pick: number;
  readonly derived: boolean;
  readonly filler: string;
  readonly concrete: string;
  readonly context: Record<string, string>;
}

const CONCRETE_RESOURCES = [
  'arn:aws:s3:::data', 'arn:aws:s3:::data/a/b', 'arn:aws:s3:::data/alice/x', 'arn:aws:s3:::data/a1/x', 'arn:aws:s3:::logs/x', 'arn:aws:s3:::data-alice/a/b',
  'arn:aws:s3:::data/cost$/x', 'arn:aws:s3:::data/xq', 'arn:aws:s3:::public/x', 'arn:aws:sqs:us-east-1:123456789012:q1', 'arn:aws:sqs:eu-west-1:123456789012:alice',
  'arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/team/a1', 'arn:aws:iam::123456789012:user/bob',
];

const probeArb: fc.Arbitrary<Probe> = fc.record({
  pick: fc.nat(),
  derived: fc.boolean(),
  filler: one(FILLERS),
  concrete: one(CONCRETE_RESOURCES),
  context: fc.record(
    {
      'aws:username': one(['alice', 'bob']),
      'aws:userid': one(['AROAEXAMPLE:alice', 'AIDAEXAMPLE']),
      'aws:PrincipalTag/team': one(['a1', 'b']),
      'aws:RequestedRegion': one(['eu-west-1', 'us-east-1']),
      'aws:SecureTransport': one(['true', 'false']),
    },
    { requiredKeys: ['aws:RequestedRegion', 'aws:SecureTransport'] },
  ) as fc.Arbitrary<Record<string, string>>,
});

export interface Pair {
  readonly grant: Grant;
  readonly request: RequestedSessionPolicies;
  readonly probes: readonly Probe[];
}

export const pairArb = (probes: number): fc.Arbitrary<Pair> =>
  grantArb.chain((grant) => fc.record({ grant: fc.constant(grant), request: requestArb(grant), probes: fc.array(probeArb, { minLength: probes, maxLength: probes }) }));

// --- the oracle ------------------------------------------------------------------------------

/** All of a session's policies as one document, or undefined when no session policy is sent (the role alone decides). */
export function sessionDocument(policies: SessionPolicies, fixtures: Grant['fixtures']): PolicyDocument | undefined {
  const statements = [
    ...(policies.policy === undefined ? [] : statementsOf(policies.policy)),
    ...policies.policyArns.flatMap((arn) => statementsOf(fixtures[arn] as PolicyDocument)),
  ];
  if (policies.policy === undefined && policies.policyArns.length === 0) return undefined;
  return doc(statements);
}

const ACTIONS_FOR: Array<[RegExp, string[]]> = [
  [/^arn:aws:s3:::[^/]+$/, ['s3:ListBucket', 's3:GetBucketTagging']],
  [/^arn:aws:s3:::[^/]+\/.+$/, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectTagging']],
  [/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[^:]+$/, ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteQueue']],
  [/^arn:aws:iam::\d{12}:user\/.+$/, ['iam:CreateUser', 'iam:GetUser', 'iam:DeleteUser']],
];

/** A concrete resource from one of the sent session's own patterns: wildcards filled, variables set from the context. */
function instantiate(pattern: string, probe: Probe): string {
  return pattern
    .replace(/\$\{[^}]*\}|[*?]/g, (token) => {
      if (token === '*') return probe.filler;
      if (token === '?') return 'q';
      if (token === '${*}') return '*';
      if (token === '${?}') return '?';
      if (token === '${$}') return '$';
      return probe.context[token.slice(2, -1)] ?? 'nobody';
    });
}

/** The probe's request, or undefined when it cannot be made valid for the simulator (counted as skipped). */
function probeRequest(probe: Probe, sent: PolicyDocument | undefined): { action: string; resource: string } | undefined {
  let resource = probe.concrete;
  if (probe.derived && sent !== undefined) {
    const patterns = statementsOf(sent).flatMap((s) => list(s.Resource));
    if (patterns.length > 0) resource = instantiate(patterns[probe.pick % patterns.length] as string, probe);
    if (resource === '') resource = probe.concrete;
  }
  if (/[*?]/.test(resource)) return undefined;
  const actions = ACTIONS_FOR.find(([shape]) => shape.test(resource))?.[1];
  if (!actions) return undefined;
  return { action: actions[Math.floor(probe.pick / 7) % actions.length] as string, resource };
}

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'error';

export async function decide(session: PolicyDocument | undefined, action: string, resource: string, context: Record<string, string>): Promise<Decision> {
  const result = await runSimulation(
    {
      request: { principal: PRINCIPAL, action, resource: { resource, accountId: ACCOUNT }, contextVariables: context },
      identityPolicies: [{ name: 'role', policy: ROLE_POLICY }],
      ...(session === undefined ? {} : { sessionPolicy: session }),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') return 'error';
  return result.overallResult as Decision;
}

export interface Violation {
  readonly grant: Grant;
  readonly request: RequestedSessionPolicies;
  readonly sent: SessionPolicies;
  readonly probe: { action: string; resource: string; context: Record<string, string> };
  readonly grantDecision: Decision;
}

export interface Tally {
  pairs: number;
  accepted: number;
  refused: Record<string, number>;
  probesChecked: number;
  probesAllowedBySent: number;
  probesSkipped: number;
  violations: Violation[];
  /** Refused pairs for which no probe showed the naive (unchecked) session wider than the grant. */
  refusedWithoutWideningFound: number;
}

export const emptyTally = (): Tally => ({ pairs: 0, accepted: 0, refused: {}, probesChecked: 0, probesAllowedBySent: 0, probesSkipped: 0, violations: [], refusedWithoutWideningFound: 0 });

/** What a broker without checks would send: the caller's statements plus the grant's Denies, its ARNs or the grant's. */
function uncheckedSession(grant: Grant, request: RequestedSessionPolicies): SessionPolicies {
  const statements = request.policy === undefined ? [] : statementsOf(request.policy);
  const grantDenies = grant.sessionPolicy === undefined ? [] : statementsOf(grant.sessionPolicy).filter((s) => s.Effect === 'Deny');
  const hasAllow = statements.some((s) => s.Effect === 'Allow');
  return {
    policy: doc([...statements, ...grantDenies]),
    policyArns: (request.policyArns ?? (hasAllow ? [] : grant.policyArns)).filter((a) => grant.fixtures[a] !== undefined),
  };
}

/** The function under test: shared/domain/session-policy.ts's `narrowSessionPolicies`. */
export type Narrow = (grant: GrantedSessionPolicies, requested: RequestedSessionPolicies) => SessionPolicies;

/** Checks one pair through `narrow`; adds to `tally`. Returns false on a violation. */
export async function checkPair(narrow: Narrow, pair: Pair, tally: Tally, options: { estimateCaution?: boolean } = {}): Promise<boolean> {
  const { grant, request } = pair;
  tally.pairs += 1;
  let sent: SessionPolicies;
  try {
    sent = narrow(grant, request);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    tally.refused[error.code] = (tally.refused[error.code] ?? 0) + 1;
    if (options.estimateCaution && (error.code === 'session_policy_widens_grant' || error.code === 'policy_not_narrowable')) {
      const widens = await anyProbeWidens(pair, uncheckedSession(grant, request));
      if (!widens) tally.refusedWithoutWideningFound += 1;
    }
    return true;
  }
  tally.accepted += 1;
  const grantDocument = sessionDocument({ policy: grant.sessionPolicy, policyArns: grant.policyArns }, grant.fixtures);
  const sentDocument = sessionDocument(sent, grant.fixtures);
  for (const probe of pair.probes) {
    const request_ = probeRequest(probe, sentDocument);
    if (!request_) {
      tally.probesSkipped += 1;
      continue;
    }
    const sentDecision = await decide(sentDocument, request_.action, request_.resource, probe.context);
    if (sentDecision === 'error') {
      tally.probesSkipped += 1;
      continue;
    }
    tally.probesChecked += 1;
    if (sentDecision !== 'Allowed') continue;
    tally.probesAllowedBySent += 1;
    const grantDecision = await decide(grantDocument, request_.action, request_.resource, probe.context);
    if (grantDecision !== 'Allowed') {
      tally.violations.push({ grant, request, sent, probe: { ...request_, context: probe.context }, grantDecision });
      return false;
    }
  }
  return true;
}

async function anyProbeWidens(pair: Pair, unchecked: SessionPolicies): Promise<boolean> {
  const grantDocument = sessionDocument({ policy: pair.grant.sessionPolicy, policyArns: pair.grant.policyArns }, pair.grant.fixtures);
  const uncheckedDocument = sessionDocument(unchecked, pair.grant.fixtures);
  for (const probe of pair.probes) {
    const request = probeRequest(probe, uncheckedDocument);
    if (!request) continue;
    if ((await decide(uncheckedDocument, request.action, request.resource, probe.context)) !== 'Allowed') continue;
    if ((await decide(grantDocument, request.action, request.resource, probe.context)) !== 'Allowed') return true;
  }
  return false;
}

/** One line per figure, for the test log and `npm run fuzz:policy`. */
export function describeTally(tally: Tally, seed: number): string {
  const refused = Object.values(tally.refused).reduce((a, b) => a + b, 0);
  const share = tally.pairs === 0 ? 0 : (100 * tally.accepted) / tally.pairs;
  return [
    `seed ${seed}`,
    `pairs generated ${tally.pairs}`,
    `accepted ${tally.accepted} (${share.toFixed(1)}%)`,
    `refused by code ${refused} ${JSON.stringify(tally.refused)}`,
    `probes checked ${tally.probesChecked} (allowed by the sent session ${tally.probesAllowedBySent}; skipped ${tally.probesSkipped})`,
    `violations ${tally.violations.length}`,
    ...(tally.refusedWithoutWideningFound > 0 ? [`refusals where no probe showed a widening (possibly over-cautious) ${tally.refusedWithoutWideningFound}`] : []),
  ].join('\n');
}
