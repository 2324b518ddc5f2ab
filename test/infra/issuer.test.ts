import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BrokeredRole, BrokeredRoleOptIn, WEB_IDENTITY_ACTIONS } from '../../infra/brokered-role';
import { Nocreds } from '../../infra/nocreds';
import { ACCOUNT, actionsOf, cdkJsonContext, EXAMPLE_GRANTS, logicalId, statementsOf, synthBrokers, type Statement } from './broker-stacks';

/**
 * Issuer mode in the construct: a grant policy with a `via: web-identity` rule brings the KMS
 * signing key (only the vending functions may kms:Sign, by their policies and by the key policy),
 * the issuer settings in their environment, the public well-known routes, and the IAM OIDC
 * provider; BrokeredRole's web-identity trust is proved with iam-simulate to admit only the
 * intended sub and aud.
 */
const dir = mkdtempSync(join(tmpdir(), 'nocreds-issuer-infra-'));
const grantsFile = join(dir, 'grants.yaml');
writeFileSync(
  grantsFile,
  `${readFileSync(EXAMPLE_GRANTS, 'utf8')}
  - id: batch
    callers: [{ oidc: prod-cluster, claims: { namespace: "batch-*" } }]
    credentials:
      via: web-identity
      roles: ["arn:aws:iam::${ACCOUNT}:role/nocreds/\${namespace}-worker"]
      maxDurationSeconds: 28800
`,
);

// Issuer on the API's own URL (a deploy-time value), from the grant policy alone.
const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
const stack = new Stack(app, 'Issuer', { env: { account: ACCOUNT, region: 'eu-west-1' } });
const broker = new Nocreds(stack, 'Broker', { grantPolicyFile: grantsFile, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
const worker = new BrokeredRole(stack, 'Worker', { broker, roleName: 'batch-etl-worker', webIdentityCallers: ['prod-cluster:system:serviceaccount:batch-etl:*'] });
const both = new BrokeredRole(stack, 'Both', { broker, roleName: 'shared-app', webIdentityCallers: ['prod-cluster:system:serviceaccount:batch-etl:*'], assumeRoleTrust: true });
Aspects.of(app).add(new AwsSolutionsChecks());
const template = Template.fromStack(stack);
// Issuer on a custom domain (literal condition keys), forced by the issuer prop: test/infra/broker-stacks.ts.
const { full, minimal } = synthBrokers();

const ref = (logical: string) => ({ Ref: logical });
const roleId = (name: 'credentials' | 'leases' | 'certificates' | 'renewal' | 'audit' | 'whoami') => logicalId(stack, broker.functions[name].role);
const keyId = logicalId(stack, broker.issuer!.signingKey);
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

describe('signing key', () => {
  test('an ECC_NIST_P256 SIGN_VERIFY key with an alias, retained', () => {
    template.hasResource('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: Match.stringLikeRegexp('^alias/nocreds/'), TargetKeyId: keyArn });
  });

  test('the key policy denies kms:Sign to everyone but the vending functions (credentials, leases)', () => {
    const key = template.findResources('AWS::KMS::Key')[keyId];
    const deny = (key?.Properties.KeyPolicy.Statement as Array<Statement & { Sid?: string }>).find((s) => s.Sid === 'OnlyTheBrokerSigns');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Action: 'kms:Sign',
      Principal: { AWS: '*' },
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [roleId('credentials'), 'Arn'] }, { 'Fn::GetAtt': [roleId('leases'), 'Arn'] }] } },
    });
  });

  test('the vending functions may kms:Sign and kms:GetPublicKey on that key and nothing else with it; no other function touches it', () => {
    for (const name of ['credentials', 'leases'] as const) {
      // This broker has no data key: every KMS permission of the role is about the signing key.
      const onKms = statementsOf(template, roleId(name)).filter((s) => actionsOf([s]).some((a) => a.startsWith('kms:')));
      expect(actionsOf(onKms)).toEqual(['kms:GetPublicKey', 'kms:Sign']);
      for (const statement of onKms) expect(statement).toMatchObject({ Effect: 'Allow', Resource: keyArn });
    }
    for (const name of ['certificates', 'renewal', 'audit', 'whoami'] as const) {
      expect(JSON.stringify(statementsOf(template, roleId(name)))).not.toContain(keyId);
    }
  });
});

describe('issuer settings', () => {
  const issuerUrl = { 'Fn::Join': ['', ['https://', ref(logicalId(stack, broker.api)), '.execute-api.eu-west-1.', ref('AWS::URLSuffix')]] };

  test('the vending functions get the issuer URL (from the API id: function -> API only), audience and keys', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    for (const name of ['credentials', 'leases'] as const) {
      const variables = functions[logicalId(stack, broker.functions[name].function)]?.Properties.Environment.Variables;
      expect(variables).toMatchObject({
        NOCREDS_ISSUER_URL: issuerUrl,
        NOCREDS_ISSUER_AUDIENCE: 'sts.amazonaws.com',
        NOCREDS_ISSUER_SIGNING_KEY: keyArn,
        NOCREDS_ISSUER_PUBLISHED_KEYS: keyArn,
      });
    }
    const certificates = functions[logicalId(stack, broker.functions.certificates.function)]?.Properties.Environment.Variables;
    expect(Object.keys(certificates).filter((k) => k.startsWith('NOCREDS_ISSUER'))).toEqual([]);
  });

  test('the IAM OIDC provider trusts the issuer URL with the audience as client id, and pins no thumbprint', () => {
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: issuerUrl, ClientIdList: ['sts.amazonaws.com'], ThumbprintList: Match.absent() });
    template.hasOutput('*', { Value: issuerUrl, Description: Match.stringLikeRegexp('OIDC issuer') });
  });

  test('on a custom domain, the issuer is https://<domain>', () => {
    full.template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://nocreds.example.org', ClientIdList: ['sts.amazonaws.com'] });
  });

  test('no web-identity rule and no issuer prop: no key, no provider', () => {
    minimal.template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    minimal.template.resourcePropertiesCountIs('AWS::KMS::Key', { KeyUsage: 'SIGN_VERIFY' }, 0);
  });

  test('rotation props: the next key is published (GetPublicKey on both) while the current one signs; a signing key outside the published list fails the synth', () => {
    const rotating = new Stack(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), 'Rotating', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const current = kms.Key.fromKeyArn(rotating, 'Current', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`);
    const next = kms.Key.fromKeyArn(rotating, 'Next', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`);
    const rotated = new Nocreds(rotating, 'Broker', { grantPolicyFile: grantsFile, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), issuer: { signingKey: current, publishedKeys: [current, next], audience: 'nocreds' } });
    const t = Template.fromStack(rotating);
    const statements = statementsOf(t, logicalId(rotating, rotated.functions.credentials.role));
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 'kms:Sign', Resource: current.keyArn }), expect.objectContaining({ Action: 'kms:GetPublicKey', Resource: [current.keyArn, next.keyArn] })]));
    t.resourcePropertiesCountIs('AWS::KMS::Key', { KeyUsage: 'SIGN_VERIFY' }, 0);
    t.hasResourceProperties('AWS::IAM::OIDCProvider', { ClientIdList: ['nocreds'] });
    const other = new Stack(new App(), 'Bad', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const k = kms.Key.fromKeyArn(other, 'K', current.keyArn);
    expect(() => new Nocreds(other, 'Broker', { grantPolicyFile: grantsFile, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), issuer: { signingKey: k, publishedKeys: [] } })).toThrow(/must include issuer.signingKey/);
  });
});

describe('public well-known routes', () => {
  test('served by the credentials function on the token API, without an authorizer; not on the IAM API', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const wellKnown = Object.values(routes).filter((r) => String(r.Properties.RouteKey).includes('/.well-known/'));
    expect(wellKnown.map((r) => r.Properties.RouteKey).sort()).toEqual(['GET /.well-known/jwks.json', 'GET /.well-known/openid-configuration']);
    for (const route of wellKnown) {
      expect(route.Properties.ApiId).toEqual(ref(logicalId(stack, broker.api)));
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('no errors and no warnings on a broker in issuer mode with web-identity roles', () => {
    const annotations = Annotations.fromStack(stack);
    const findings = (kind: 'findError' | 'findWarning') => annotations[kind]('*', Match.stringLikeRegexp('AwsSolutions-.*')).map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
    expect(findings('findError')).toEqual([]);
    expect(findings('findWarning')).toEqual([]);
  });
});

describe('BrokeredRole web-identity trust', () => {
  const trustOf = (t: Template, s: Stack, role: BrokeredRole) => t.findResources('AWS::IAM::Role')[logicalId(s, role)]?.Properties.AssumeRolePolicyDocument as { Statement: Statement[] };

  test('trusts the broker provider with the three web-identity actions and aud/sub conditions; no AssumeRole trust unless asked', () => {
    const trust = trustOf(template, stack, worker);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]).toMatchObject({ Effect: 'Allow', Principal: { Federated: ref(logicalId(stack, broker.issuer!.provider)) } });
    expect(actionsOf(trust.Statement)).toEqual([...WEB_IDENTITY_ACTIONS].sort());
    // The API URL is known at deploy only, so the condition keys are resolved by CloudFormation.
    const conditions = JSON.stringify(template.toJSON().Resources);
    expect(conditions).toContain(':aud\\":\\"sts.amazonaws.com\\"}');
    expect(conditions).toContain(':sub\\":[\\"prod-cluster:system:serviceaccount:batch-etl:*\\"]}');

    const mixed = trustOf(template, stack, both);
    expect(mixed.Statement.map((s) => actionsOf([s]))).toEqual([
      ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      [...WEB_IDENTITY_ACTIONS].sort(),
    ]);
  });

  test('refuses a web-identity trust without an issuer, and an empty caller list', () => {
    const s = new Stack(new App(), 'NoIssuer', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    expect(() => new BrokeredRole(s, 'R', { broker: minimal.broker, webIdentityCallers: ['k8s:*'] })).toThrow(/needs a broker with an issuer/);
    expect(() => new BrokeredRole(stack, 'Empty', { broker, webIdentityCallers: [] })).toThrow(/at least one non-empty sub pattern/);
  });

  describe('admits only the intended sub and aud (iam-simulate on the synthesized trust policy)', () => {
    const host = 'nocreds.example.org';
    const batchWorker = full.stack.node.findChild('BatchWorker') as BrokeredRole;
    const trust = trustOf(full.template, full.stack, batchWorker);
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;
    const otherProviderArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const brokerRoleArn = `arn:aws:iam::${ACCOUNT}:role/nocreds-credentials`;
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/batch-worker`;
    // sts:TagSession and sts:SetSourceIdentity are authorized in the same request, with the same
    // claims (STS evaluates them together), and sit in the same statement (asserted above);
    // iam-simulate applies OIDC keys to AssumeRoleWithWebIdentity only, so that is what is simulated.
    // The template names the provider by Ref; the simulation needs its ARN. iam-simulate reads
    // OIDC condition keys only for providers it knows, so the issuer prefix is renamed, in the
    // policy and in the request alike, to one it knows: conditions compare keys by name only.
    const KNOWN = 'accounts.google.com';
    const policy = JSON.parse(JSON.stringify(trust).replaceAll(JSON.stringify(ref(logicalId(full.stack, full.broker.issuer!.provider))), JSON.stringify(providerArn)).replaceAll(`${host}:`, `${KNOWN}:`));
    const keys = (claims: { aud?: string; sub?: string }) => Object.fromEntries(Object.entries(claims).map(([k, v]) => [`${KNOWN}:${k}`, v as string]));

    async function decide(principal: string, action: string, claims: { aud?: string; sub?: string }) {
      const result = await runSimulation(
        {
          request: { principal, action, resource: { resource: roleArn, accountId: ACCOUNT }, contextVariables: keys(claims) },
          identityPolicies: [],
          resourcePolicy: policy,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      if (result.resultType === 'single') expect(result.result.ignoredContextKeys).toEqual([]);
      return result.resultType === 'single' ? result.overallResult : 'unexpected';
    }

    const aud = 'sts.amazonaws.com';
    test.each([
      ['a matching sub and the audience', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud, sub: 'prod-cluster:system:serviceaccount:batch-etl:runner' }, 'Allowed'],
      ['another pod of a matching namespace', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud, sub: 'prod-cluster:system:serviceaccount:batch-x:y' }, 'Allowed'],
      ['another namespace', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud, sub: 'prod-cluster:system:serviceaccount:team-a:api' }, 'ImplicitlyDenied'],
      ['another issuer id with the same path', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud, sub: 'dev-cluster:system:serviceaccount:batch-etl:runner' }, 'ImplicitlyDenied'],
      ['the wrong audience', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud: 'nocreds', sub: 'prod-cluster:system:serviceaccount:batch-etl:runner' }, 'ImplicitlyDenied'],
      ['no aud', providerArn, 'sts:AssumeRoleWithWebIdentity', { sub: 'prod-cluster:system:serviceaccount:batch-etl:runner' }, 'ImplicitlyDenied'],
      ['no sub', providerArn, 'sts:AssumeRoleWithWebIdentity', { aud }, 'ImplicitlyDenied'],
      ['no claims at all', providerArn, 'sts:AssumeRoleWithWebIdentity', {}, 'ImplicitlyDenied'],
      ['another OIDC provider with the same claims', otherProviderArn, 'sts:AssumeRoleWithWebIdentity', { aud, sub: 'prod-cluster:system:serviceaccount:batch-etl:runner' }, 'ImplicitlyDenied'],
      ["the broker's own role with AssumeRole (no chained trust)", brokerRoleArn, 'sts:AssumeRole', {}, 'ImplicitlyDenied'],
    ] as const)('%s', async (_what, principal, action, claims, expected) => {
      expect(await decide(principal, action, claims)).toBe(expected);
    });
  });
});
