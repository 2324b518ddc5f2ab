import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { BrokerFunctionName } from '../../infra/broker-function';
import { CloudFormationResolver, type CfnTemplate } from '../support/cloudformation-resolver';
import { ACCOUNT, CA_ARN, OTHER_ACCOUNT, SECOND_CA_ARN, logicalId, synthBrokers, type BrokerStack } from './broker-stacks';

/**
 * What each function's role may actually do as deployed: its identity policies, taken from the
 * synthesized template with every Ref/GetAtt/Join resolved to an ARN, evaluated by
 * @cloud-copilot/iam-simulate (strict mode) against the calls the function makes and the calls it
 * must never make. test/infra/nocreds.test.ts checks the policy JSON; this checks its effect.
 *
 * - minimal: roles opt in by path (/nocreds/), one CA, revocation off;
 * - full: roles opt in by tag nocreds:brokered=true in ACCOUNT and OTHER_ACCOUNT, two CAs, revocation on.
 */
const { minimal, full } = synthBrokers();
const REGION = 'eu-west-1';
const THIRD_ACCOUNT = '777788889999';
const TAG = 'aws:ResourceTag/nocreds:brokered';
const TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1';
/** A template that mints a CA certificate: the one thing the broker must never issue. */
const CA_TEMPLATE_ARN = 'arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1';
const ROGUE_CA_ARN = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/99999999-9999-9999-9999-999999999999`;
const VENDING = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'];
const REVOCATION = ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'];

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

interface Deployed {
  readonly label: string;
  readonly b: BrokerStack;
  readonly resolver: CloudFormationResolver;
  readonly arn: (construct: unknown) => string;
}

function deployed(label: string, b: BrokerStack): Deployed {
  const resolver = new CloudFormationResolver(b.template.toJSON() as CfnTemplate, { account: ACCOUNT, region: REGION, stackName: b.stack.stackName });
  return { label, b, resolver, arn: (construct) => resolver.arnOf(logicalId(b.stack, construct)) };
}

const MINIMAL = deployed('minimal', minimal);
const FULL = deployed('full', full);

/** The identity policies of a function's role, resolved: inline `AWS::IAM::Policy` resources and the role's own `Policies`. */
function identityPolicies(d: Deployed, name: BrokerFunctionName): Simulation['identityPolicies'] {
  return rolePolicies(d, logicalId(d.b.stack, d.b.broker.functions[name].role));
}

function rolePolicies(d: Deployed, roleId: string): Simulation['identityPolicies'] {
  const template = d.b.template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const role = template.Resources[roleId]!.Properties;
  // A managed policy's document is not in the template: it could not be evaluated here.
  expect(role.ManagedPolicyArns).toBeUndefined();
  const inline = ((role.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({ name: p.PolicyName, policy: d.resolver.resolve(p.PolicyDocument) }));
  const attached = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as unknown[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })))
    .map(([id, r]) => ({ name: id, policy: d.resolver.resolve(r.Properties.PolicyDocument) }));
  return [...inline, ...attached];
}

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  /** The target's resource policy (a role's trust policy); needed for any cross-account request. */
  readonly resourcePolicy?: unknown;
}

async function decide(d: Deployed, name: BrokerFunctionName, request: Request): Promise<Decision> {
  const fn = d.b.broker.functions[name];
  const roleName = d.resolver.physicalName(logicalId(d.b.stack, fn.role));
  const functionName = d.resolver.physicalName(logicalId(d.b.stack, fn.function));
  return simulate(`arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${functionName}`, identityPolicies(d, name), request);
}

async function simulate(principal: string, policies: Simulation['identityPolicies'], request: Request): Promise<Decision> {
  const context = request.context ?? {};
  const simulation: Simulation = {
    request: {
      principal,
      action: request.action,
      // S3 ARNs carry no account: the audit bucket is the broker's.
      resource: { resource: request.resource, accountId: request.resource.split(':')[4] || ACCOUNT },
      contextVariables: context,
    },
    identityPolicies: policies,
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`simulation refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`${request.resource} is not one resource`);
  // A context key the simulator drops for this action would make a "denied without it" case pass vacuously.
  expect({ action: request.action, ignored: result.result.ignoredContextKeys ?? [] }).toEqual({ action: request.action, ignored: [] });
  return result.overallResult as Decision;
}

/** Every request's decision, keyed by a readable description, so a failure names the request. */
async function decisions(d: Deployed, name: BrokerFunctionName, requests: Array<[Request, Decision]>): Promise<{ actual: Record<string, Decision>; expected: Record<string, Decision> }> {
  const actual: Record<string, Decision> = {};
  const expected: Record<string, Decision> = {};
  for (const [request, decision] of requests) {
    const key = `${d.label} ${name}: ${request.action} on ${request.resource}${request.context ? ` with ${JSON.stringify(request.context)}` : ''}${request.resourcePolicy ? ' (trusted)' : ''}`;
    if (key in expected) throw new Error(`duplicate case ${key}`);
    actual[key] = await decide(d, name, request);
    expected[key] = decision;
  }
  return { actual, expected };
}

async function expectDecisions(d: Deployed, name: BrokerFunctionName, requests: Array<[Request, Decision]>): Promise<void> {
  const { actual, expected } = await decisions(d, name, requests);
  expect(actual).toEqual(expected);
}

const each = (actions: string[], resource: string, decision: Decision, extra: Omit<Request, 'action' | 'resource'> = {}): Array<[Request, Decision]> =>
  actions.map((action) => [{ action, resource, ...extra }, decision]);

const role = (path: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${path}`;
/** Where the broker assumes the revoker role of an account (DEFAULT_REVOKER_ROLE_NAME). */
const revoker = (account = ACCOUNT) => role('nocreds-revoker/nocreds-session-revoker', account);

/** The revoker role's trust policy as BrokeredRole writes it, resolved. */
function revokerTrust(d: Deployed): unknown {
  const template = d.b.template.toJSON() as { Resources: Record<string, { Properties: Record<string, unknown> }> };
  return d.resolver.resolve(template.Resources[logicalId(d.b.stack, d.b.stack.node.findChild('NocredsSessionRevoker'))]!.Properties.AssumeRolePolicyDocument);
}
/** A role trust policy trusting the broker's account (so the broker's identity policy decides). */
const trustsBrokerAccount = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: VENDING }],
};

/**
 * A role trust policy naming the vending roles themselves, as BrokeredRole writes it and the
 * VendingRoleArns output invites. In the same account such a trust policy alone allows
 * sts:AssumeRole, whatever the broker's identity policy allows: only an explicit deny keeps a
 * role that did not opt in out of reach.
 */
function trustsVendingRoles(d: Deployed) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: d.b.broker.vendingRoles.map((r) => d.arn(r)) }, Action: VENDING }],
  };
}

function tableArns(d: Deployed) {
  const table = d.arn(d.b.broker.table);
  return { table, indexes: ['byCaller', 'due', 'byAccessKey'].map((index) => `${table}/index/${index}`) };
}

/**
 * The lease table: what the functions that write leases do, and nothing beyond (no DeleteItem, no
 * other table). BatchGetItem reads the items a keys-only index found (listings, the jobs); Scan is
 * the admin listing of every caller's leases, in the leases function only.
 */
function leaseWriterRequests(d: Deployed, name: BrokerFunctionName): Array<[Request, Decision]> {
  const { table, indexes } = tableArns(d);
  const batchGet: Decision = name === 'leases' || name === 'renewal' ? 'Allowed' : 'ImplicitlyDenied';
  return [
    ...each(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], table, 'Allowed'),
    ...indexes.map((index): [Request, Decision] => [{ action: 'dynamodb:Query', resource: index }, 'Allowed']),
    [{ action: 'dynamodb:BatchGetItem', resource: table }, batchGet],
    [{ action: 'dynamodb:Scan', resource: table }, name === 'leases' ? 'Allowed' : 'ImplicitlyDenied'],
    ...each(['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteTable'], table, 'ImplicitlyDenied'),
    [{ action: 'dynamodb:Query', resource: `${table}/index/other` }, 'ImplicitlyDenied'],
    ...each(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/other-table`, 'ImplicitlyDenied'),
  ];
}

describe('every function role', () => {
  const names: BrokerFunctionName[] = ['credentials', 'whoami', 'certificates', 'leases', 'renewal', 'audit', 'reconciler'];

  it.each(names)('%s writes to its own log group only, reads no secret but the cursor key (leases) and cannot raise its own privileges', async (name) => {
    for (const d of [MINIMAL, FULL]) {
      const own = d.arn(d.b.broker.functions[name].logGroup).replace(/:\*$/, '');
      const other = d.arn(d.b.broker.functions[name === 'whoami' ? 'credentials' : 'whoami'].logGroup).replace(/:\*$/, '');
      const ownRole = d.arn(d.b.broker.functions[name].role);
      await expectDecisions(d, name, [
        [{ action: 'logs:CreateLogStream', resource: `${own}:log-stream:2024/01/01/[$LATEST]abc` }, 'Allowed'],
        [{ action: 'logs:PutLogEvents', resource: `${own}:log-stream:2024/01/01/[$LATEST]abc` }, 'Allowed'],
        [{ action: 'logs:PutLogEvents', resource: `${other}:log-stream:2024/01/01/[$LATEST]abc` }, 'ImplicitlyDenied'],
        [{ action: 'logs:CreateLogGroup', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:anything` }, 'ImplicitlyDenied'],
        // Only the leases function reads the cursor key (at init, through Powertools Parameters).
        [{ action: 'secretsmanager:GetSecretValue', resource: d.arn(d.b.broker.cursorKey) }, name === 'leases' ? 'Allowed' : 'ImplicitlyDenied'],
        // The functions that may touch opted-in roles carry an explicit deny on the broker's own roles.
        [{ action: 'iam:PutRolePolicy', resource: ownRole }, ['credentials', 'leases', 'renewal', 'reconciler'].includes(name) ? 'ExplicitlyDenied' : 'ImplicitlyDenied'],
        ...each(['iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole'], ownRole, 'ImplicitlyDenied'),
        [{ action: 'iam:PassRole', resource: ownRole }, 'ImplicitlyDenied'],
        [{ action: 'iam:CreateRole', resource: role('nocreds/new-role') }, 'ImplicitlyDenied'],
        [{ action: 'lambda:UpdateFunctionCode', resource: d.arn(d.b.broker.functions[name].function) }, 'ImplicitlyDenied'],
      ]);
    }
  });
});

describe('credentials role', () => {
  it('with path opt-in: vends roles under /nocreds/ only, in its own account only', async () => {
    const deployer = MINIMAL.arn(MINIMAL.b.stack.node.findChild('Deployer'));
    expect(deployer).toBe(role('nocreds/ci-deployer'));
    await expectDecisions(MINIMAL, 'credentials', [
      ...each(VENDING, deployer, 'Allowed'),
      ...each(VENDING, role('nocreds/team-a-app'), 'Allowed'),
      ...each(VENDING, role('admin'), 'ExplicitlyDenied'),
      ...each(VENDING, role('nocredsX/app'), 'ExplicitlyDenied'),
      ...each(VENDING, role('team/nocreds/app'), 'ExplicitlyDenied'),
      // Path opt-in ignores tags: a tagged role elsewhere is still out of reach.
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { context: { [TAG]: 'true' } }),
      // Trusting the vending role by ARN does not opt a role in.
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { resourcePolicy: trustsVendingRoles(MINIMAL) }),
      ...each(VENDING, role('nocreds/team-a-app'), 'Allowed', { resourcePolicy: trustsVendingRoles(MINIMAL) }),
      // Other accounts did not opt in, even when their role trusts the broker's account.
      ...each(VENDING, role('nocreds/app', OTHER_ACCOUNT), 'ExplicitlyDenied', { resourcePolicy: trustsBrokerAccount }),
    ]);
  });

  it('with tag opt-in: vends roles tagged nocreds:brokered=true only, in the opted-in accounts only', async () => {
    await expectDecisions(FULL, 'credentials', [
      ...each(VENDING, role('admin'), 'Allowed', { context: { [TAG]: 'true' } }),
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { context: { [TAG]: 'false' } }),
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { context: { [TAG]: 'TRUE' } }),
      ...each(VENDING, role('admin'), 'ExplicitlyDenied'),
      // Trusting the vending role by ARN does not opt a role in; the tag does.
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { resourcePolicy: trustsVendingRoles(FULL) }),
      ...each(VENDING, role('admin'), 'Allowed', { context: { [TAG]: 'true' }, resourcePolicy: trustsVendingRoles(FULL) }),
      ...each(VENDING, role('app', OTHER_ACCOUNT), 'Allowed', { context: { [TAG]: 'true' }, resourcePolicy: trustsBrokerAccount }),
      ...each(VENDING, role('app', OTHER_ACCOUNT), 'ExplicitlyDenied', { resourcePolicy: trustsBrokerAccount }),
      ...each(VENDING, role('app', THIRD_ACCOUNT), 'ExplicitlyDenied', { context: { [TAG]: 'true' }, resourcePolicy: trustsBrokerAccount }),
    ]);
  });

  it.each([MINIMAL, FULL])('$label: writes leases in its table and indexes, and calls nothing else (no IAM, PCA or S3)', async (d) => {
    const opted = d === MINIMAL ? role('nocreds/team-a-app') : role('app');
    const tagged = d === MINIMAL ? {} : { context: { [TAG]: 'true' } };
    await expectDecisions(d, 'credentials', [
      ...leaseWriterRequests(d, 'credentials'),
      ...each(REVOCATION, opted, 'ImplicitlyDenied', tagged),
      [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'ImplicitlyDenied'],
      [{ action: 'acm-pca:RevokeCertificate', resource: CA_ARN }, 'ImplicitlyDenied'],
      [{ action: 's3:PutObject', resource: `${d.arn(d.b.broker.auditBucket)}/audit/report.json` }, 'ImplicitlyDenied'],
      [{ action: 'events:PutEvents', resource: d.arn(d.b.broker.eventBus) }, 'ImplicitlyDenied'],
    ]);
  });
});

describe("the broker's own roles", () => {
  it('are never vendable or rewritable by the broker, even when tagged with the opt-in marker', async () => {
    const own = (['credentials', 'whoami', 'certificates', 'leases', 'renewal', 'audit'] as const).map((fn) => FULL.arn(FULL.b.broker.functions[fn].role));
    for (const name of ['credentials', 'leases', 'renewal'] as const) {
      await expectDecisions(
        FULL,
        name,
        own.flatMap((arn) => [
          ...each(VENDING, arn, 'ExplicitlyDenied', { context: { [TAG]: 'true' }, resourcePolicy: trustsVendingRoles(FULL) }),
          ...each(REVOCATION, arn, 'ExplicitlyDenied', { context: { [TAG]: 'true' } }),
        ]),
      );
    }
  });
});

describe('certificates role', () => {
  it('issues from the configured CAs only, with the grant policy template only, and never revokes', async () => {
    for (const [d, cas] of [
      [MINIMAL, [CA_ARN]],
      [FULL, [CA_ARN, SECOND_CA_ARN]],
    ] as const) {
      await expectDecisions(d, 'certificates', [
        ...cas.flatMap((ca): Array<[Request, Decision]> => [
          [{ action: 'acm-pca:IssueCertificate', resource: ca, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'Allowed'],
          [{ action: 'acm-pca:IssueCertificate', resource: ca, context: { 'acm-pca:TemplateArn': CA_TEMPLATE_ARN } }, 'ImplicitlyDenied'],
          // No template: PCA's default (an end-entity certificate without API passthrough) is not one the policy names.
          [{ action: 'acm-pca:IssueCertificate', resource: ca }, 'ImplicitlyDenied'],
          ...each(['acm-pca:GetCertificate', 'acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificateAuthorityCertificate'], ca, 'Allowed'),
          ...each(['acm-pca:RevokeCertificate', 'acm-pca:CreatePermission', 'acm-pca:ImportCertificateAuthorityCertificate'], ca, 'ImplicitlyDenied'),
        ]),
        // The minimal broker has only CA_ARN: its second CA is as foreign as any other.
        ...(d === MINIMAL ? each(['acm-pca:IssueCertificate'], SECOND_CA_ARN, 'ImplicitlyDenied', { context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }) : []),
        [{ action: 'acm-pca:IssueCertificate', resource: ROGUE_CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'ImplicitlyDenied'],
        [{ action: 'acm-pca:GetCertificate', resource: ROGUE_CA_ARN }, 'ImplicitlyDenied'],
        ...leaseWriterRequests(d, 'certificates'),
        ...each(VENDING, role('nocreds/team-a-app'), 'ImplicitlyDenied', { context: { [TAG]: 'true' } }),
      ]);
    }
  });
});

describe('leases role', () => {
  it("with credentialRevocation: assumes the revoker role of each opted-in account, and writes no deny policy itself", async () => {
    const trust = revokerTrust(FULL);
    await expectDecisions(FULL, 'leases', [
      // Deny policies are written by the revoker role in the role's own account, never by the broker.
      ...each(REVOCATION, role('app'), 'ImplicitlyDenied', { context: { [TAG]: 'true' } }),
      ...each(REVOCATION, role('app', OTHER_ACCOUNT), 'ImplicitlyDenied', { context: { [TAG]: 'true' } }),
      [{ action: 'sts:AssumeRole', resource: revoker(), resourcePolicy: trust }, 'Allowed'],
      [{ action: 'sts:AssumeRole', resource: revoker(OTHER_ACCOUNT), resourcePolicy: trust }, 'Allowed'],
      [{ action: 'sts:AssumeRole', resource: revoker(THIRD_ACCOUNT), resourcePolicy: trust }, 'ExplicitlyDenied'],
      // Only plain AssumeRole: a vending call (always tagged) cannot reach it.
      ...each(['sts:TagSession', 'sts:SetSourceIdentity'], revoker(), 'ImplicitlyDenied', { resourcePolicy: trust }),
      // It may block a session, never widen a role, change its trust or opt a role in.
      ...each(['iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:DeleteRole'], role('app'), 'ImplicitlyDenied', { context: { [TAG]: 'true' } }),
      // Renewing a credentials lease assumes the role again.
      ...each(VENDING, role('app'), 'Allowed', { context: { [TAG]: 'true' } }),
    ]);
    // The credentials function never reaches a revoker role, even one that trusted it.
    await expectDecisions(FULL, 'credentials', [[{ action: 'sts:AssumeRole', resource: revoker(), resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: FULL.arn(FULL.b.broker.functions.credentials.role) }, Action: 'sts:AssumeRole' }] } }, 'ExplicitlyDenied']]);
  });

  it('without credentialRevocation: no IAM at all, even on opted-in roles', async () => {
    const deployer = MINIMAL.arn(MINIMAL.b.stack.node.findChild('Deployer'));
    await expectDecisions(MINIMAL, 'leases', [
      ...each(REVOCATION, deployer, 'ImplicitlyDenied'),
      ...each(REVOCATION, role('nocreds/team-a-app'), 'ImplicitlyDenied'),
      ...each(VENDING, deployer, 'Allowed'),
      ...each(VENDING, role('admin'), 'ExplicitlyDenied', { resourcePolicy: trustsVendingRoles(MINIMAL) }),
    ]);
  });

  it.each([MINIMAL, FULL])('$label: is the only function that may revoke a certificate, on the configured CAs', async (d) => {
    await expectDecisions(d, 'leases', [
      [{ action: 'acm-pca:RevokeCertificate', resource: CA_ARN }, 'Allowed'],
      [{ action: 'acm-pca:RevokeCertificate', resource: ROGUE_CA_ARN }, 'ImplicitlyDenied'],
      [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'Allowed'],
      [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': CA_TEMPLATE_ARN } }, 'ImplicitlyDenied'],
      ...leaseWriterRequests(d, 'leases'),
    ]);
    for (const name of ['credentials', 'certificates', 'renewal', 'audit', 'whoami'] as const) {
      expect(await decide(d, name, { action: 'acm-pca:RevokeCertificate', resource: CA_ARN })).toBe('ImplicitlyDenied');
    }
  });
});

describe('renewal role', () => {
  it('renews certificates and publishes on its bus; assumes only the revoker roles, with revocation; never vends', async () => {
    for (const d of [MINIMAL, FULL]) {
      const revocation: Decision = d === FULL ? 'Allowed' : 'ImplicitlyDenied';
      const opted = d === MINIMAL ? {} : { context: { [TAG]: 'true' } };
      await expectDecisions(d, 'renewal', [
        ...leaseWriterRequests(d, 'renewal'),
        [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'Allowed'],
        [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': CA_TEMPLATE_ARN } }, 'ImplicitlyDenied'],
        [{ action: 'events:PutEvents', resource: d.arn(d.b.broker.eventBus) }, 'Allowed'],
        [{ action: 'events:PutEvents', resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` }, 'ImplicitlyDenied'],
        ...each(REVOCATION, d === MINIMAL ? role('nocreds/team-a-app') : role('app'), 'ImplicitlyDenied', opted),
        ...each(REVOCATION, role('admin'), 'ImplicitlyDenied'),
        [{ action: 'sts:AssumeRole', resource: revoker() }, revocation],
        [{ action: 'sts:AssumeRole', resource: revoker(OTHER_ACCOUNT), ...(d === FULL ? { resourcePolicy: revokerTrust(FULL) } : {}) }, d === FULL ? 'Allowed' : 'ImplicitlyDenied'],
        ...each(VENDING, d === MINIMAL ? role('nocreds/team-a-app') : role('app'), 'ImplicitlyDenied', opted),
      ]);
    }
  });
});

describe('revoker role (made by BrokeredRole in each account with brokered roles)', () => {
  const revokerRole = FULL.b.stack.node.findChild('NocredsSessionRevoker');
  const roleId = logicalId(FULL.b.stack, revokerRole);
  const session = `arn:aws:sts::${ACCOUNT}:assumed-role/nocreds-session-revoker/nocreds-revocation`;
  const asRevoker = async (requests: Array<[Request, Decision]>) => {
    const actual: Record<string, Decision> = {};
    const expected: Record<string, Decision> = {};
    for (const [request, decision] of requests) {
      const key = `revoker: ${request.action} on ${request.resource}${request.context ? ` with ${JSON.stringify(request.context)}` : ''}`;
      actual[key] = await simulate(session, rolePolicies(FULL, roleId), request);
      expected[key] = decision;
    }
    expect(actual).toEqual(expected);
  };

  it('is where the broker looks for it: nocreds-revoker/nocreds-session-revoker', () => {
    expect(FULL.arn(revokerRole)).toBe(revoker());
  });

  it("writes and removes deny policies on its account's opted-in roles, and nothing else", async () => {
    const tagged = { context: { [TAG]: 'true' } };
    await asRevoker([
      ...each(REVOCATION, role('app'), 'Allowed', tagged),
      ...each(REVOCATION, role('app'), 'ImplicitlyDenied', { context: { [TAG]: 'false' } }),
      ...each(REVOCATION, role('admin'), 'ImplicitlyDenied'),
      // Never itself or the broker's roles, even when tagged with the marker.
      ...each(REVOCATION, revoker(), 'ExplicitlyDenied', tagged),
      ...(['credentials', 'whoami', 'certificates', 'leases', 'renewal', 'audit'] as const).flatMap((fn) => each(['iam:PutRolePolicy'], FULL.arn(FULL.b.broker.functions[fn].role), 'ExplicitlyDenied', tagged)),
      // Cannot widen a role otherwise, change its trust, opt a role in, or create, pass or vend one.
      ...each(['iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:DeleteRole', 'iam:PassRole', 'iam:PutRolePermissionsBoundary'], role('app'), 'ImplicitlyDenied', tagged),
      [{ action: 'iam:CreateRole', resource: role('app2') }, 'ImplicitlyDenied'],
      ...each(VENDING, role('app'), 'ImplicitlyDenied', tagged),
      [{ action: 's3:GetObject', resource: 'arn:aws:s3:::any-bucket/key' }, 'ImplicitlyDenied'],
    ]);
  });
});

describe('audit role', () => {
  it.each([MINIMAL, FULL])('$label: writes reports under audit/ in its bucket, reads leases, and nothing else', async (d) => {
    const bucket = d.arn(d.b.broker.auditBucket);
    const { table, indexes } = tableArns(d);
    await expectDecisions(d, 'audit', [
      [{ action: 's3:PutObject', resource: `${bucket}/audit/2024-01-01.json` }, 'Allowed'],
      [{ action: 's3:PutObject', resource: `${bucket}/report.json` }, 'ImplicitlyDenied'],
      [{ action: 's3:PutObject', resource: `${bucket}/audit-other/report.json` }, 'ImplicitlyDenied'],
      [{ action: 's3:PutObject', resource: `${bucket}/other/audit/report.json` }, 'ImplicitlyDenied'],
      [{ action: 's3:PutObject', resource: 'arn:aws:s3:::another-bucket/audit/2024-01-01.json' }, 'ImplicitlyDenied'],
      ...each(['s3:GetObject', 's3:DeleteObject', 's3:PutObjectAcl'], `${bucket}/audit/2024-01-01.json`, 'ImplicitlyDenied'),
      ...each(['s3:PutBucketPolicy', 's3:ListBucket'], bucket, 'ImplicitlyDenied'),
      ...each(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'], table, 'Allowed'),
      ...indexes.map((index): [Request, Decision] => [{ action: 'dynamodb:Query', resource: index }, 'Allowed']),
      ...each(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'], table, 'ImplicitlyDenied'),
      [{ action: 'events:PutEvents', resource: d.arn(d.b.broker.eventBus) }, 'Allowed'],
      ...each(VENDING, d === MINIMAL ? role('nocreds/team-a-app') : role('app'), 'ImplicitlyDenied', d === MINIMAL ? {} : { context: { [TAG]: 'true' } }),
      [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'ImplicitlyDenied'],
      ...each(['acm-pca:GetCertificate', 'acm-pca:RevokeCertificate'], CA_ARN, 'ImplicitlyDenied'),
    ]);
  });
});

describe('whoami role', () => {
  it.each([MINIMAL, FULL])('$label: may call nothing but its logs', async (d) => {
    const { table } = tableArns(d);
    const tagged = d === MINIMAL ? {} : { context: { [TAG]: 'true' } };
    await expectDecisions(d, 'whoami', [
      ...each(VENDING, d === MINIMAL ? role('nocreds/team-a-app') : role('app'), 'ImplicitlyDenied', tagged),
      ...each(REVOCATION, d === MINIMAL ? role('nocreds/team-a-app') : role('app'), 'ImplicitlyDenied', tagged),
      ...each(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'], table, 'ImplicitlyDenied'),
      [{ action: 'acm-pca:IssueCertificate', resource: CA_ARN, context: { 'acm-pca:TemplateArn': TEMPLATE_ARN } }, 'ImplicitlyDenied'],
      ...each(['acm-pca:GetCertificate', 'acm-pca:RevokeCertificate'], CA_ARN, 'ImplicitlyDenied'),
      [{ action: 's3:PutObject', resource: `${d.arn(d.b.broker.auditBucket)}/audit/report.json` }, 'ImplicitlyDenied'],
      [{ action: 'events:PutEvents', resource: d.arn(d.b.broker.eventBus) }, 'ImplicitlyDenied'],
      [{ action: 'sqs:SendMessage', resource: d.arn(d.b.broker.deadLetterQueue) }, 'ImplicitlyDenied'],
    ]);
  });
});
