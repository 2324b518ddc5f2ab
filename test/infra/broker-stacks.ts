import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BrokeredRole, BrokeredRoleOptIn } from '../../infra/brokered-role';
import { Nocreds } from '../../infra/nocreds';
import { PROJECT_ROOT } from '../../infra/broker-function';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
/** The CA infra/example-grants.yaml names. */
export const CA_ARN = `arn:aws:acm-pca:eu-west-1:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;
/** A second CA the full broker is configured with, beyond the one the example policy names. */
export const SECOND_CA_ARN = `arn:aws:acm-pca:eu-west-1:${ACCOUNT}:certificate-authority/66666666-7777-8888-9999-000000000000`;
export const EXAMPLE_GRANTS = join(PROJECT_ROOT, 'infra', 'example-grants.yaml');
export const CERTIFICATE_ARN = `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/abcdefab-1234-5678-9abc-def012345678`;

/** The context `cdk synth` runs with (cdk.json: the feature flags), so tests see the template a deploy gets. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export interface BrokerStack {
  readonly stack: Stack;
  readonly broker: Nocreds;
  readonly template: Template;
}

/**
 * Two brokers in one app with cdk.json's feature flags, synthesized once per test file: bundling
 * is skipped (the bundle test builds every function with esbuild), cdk-nag's AwsSolutions pack
 * runs on both.
 * - `minimal`: path opt-in, the CA the grant policy names, revocation off, defaults everywhere;
 * - `full`: every production prop: tag opt-in across two accounts, two CAs, revocation (and so a revoker role), a
 *   customer-managed key, custom domains, tracing, provisioned and changed reserved concurrency,
 *   throttles, log retention and level, an own alarm topic with an email, an access-log bucket.
 */
export function synthBrokers(): { minimal: BrokerStack; full: BrokerStack } {
  // CloudFormation schema validation (about 10 s of WASM) runs in `npm run synth`, not here.
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const env = { account: ACCOUNT, region: 'eu-west-1' };

  const minimalStack = new Stack(app, 'Minimal', { env });
  const minimal = new Nocreds(minimalStack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
  new BrokeredRole(minimalStack, 'Deployer', { broker: minimal, roleName: 'ci-deployer' });

  const fullStack = new Stack(app, 'Full', { env });
  const key = new kms.Key(fullStack, 'Key', { enableKeyRotation: true, description: 'nocreds data at rest' });
  const full = new Nocreds(fullStack, 'Broker', {
    grantPolicyFile: EXAMPLE_GRANTS,
    brokeredRoles: BrokeredRoleOptIn.byTag('nocreds:brokered', 'true', { accounts: [ACCOUNT, OTHER_ACCOUNT] }),
    certificateAuthorityArns: [CA_ARN, SECOND_CA_ARN],
    credentialRevocation: true,
    // CloudWatch alarms can publish only to a topic whose key lets cloudwatch.amazonaws.com use it (not aws/sns).
    alarmTopic: new sns.Topic(fullStack, 'Alarms', { enforceSSL: true, masterKey: key }),
    alarmEmails: ['oncall@example.org'],
    serverAccessLogsBucket: s3.Bucket.fromBucketName(fullStack, 'AccessLogs', 'example-access-logs'),
    serverId: 'broker.example.org',
    logLevel: 'DEBUG',
    logRetention: logs.RetentionDays.THREE_MONTHS,
    encryptionKey: key,
    customDomain: { certificate: acm.Certificate.fromCertificateArn(fullStack, 'Certificate', CERTIFICATE_ARN), domainName: 'nocreds.example.org', iamDomainName: 'nocreds-iam.example.org' },
    tracing: true,
    vendingProvisionedConcurrency: 5,
    reservedConcurrency: { credentials: 200 },
    throttle: { rateLimit: 800, burstLimit: 2000 },
    routeThrottle: { 'POST /v1/credentials': { rateLimit: 400, burstLimit: 1500 } },
    auditReportRetention: Duration.days(800),
    // Issuer mode forced (the example policy has no web-identity rule); the issuer is the custom domain.
    issuer: {},
  });
  // With revocation on, a BrokeredRole brings its account's revoker role.
  new BrokeredRole(fullStack, 'App', { broker: full, roleName: 'app' });
  // Issuer mode: reached only by tokens whose sub matches (no AssumeRole trust).
  new BrokeredRole(fullStack, 'BatchWorker', { broker: full, roleName: 'batch-worker', webIdentityCallers: ['prod-cluster:system:serviceaccount:batch-*:*'] });

  Aspects.of(app).add(new AwsSolutionsChecks());
  return {
    minimal: { stack: minimalStack, broker: minimal, template: Template.fromStack(minimalStack) },
    full: { stack: fullStack, broker: full, template: Template.fromStack(fullStack) },
  };
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of the identity policies attached to the role with this logical id. */
export function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | unknown): string {
  const child = (construct as { node: { defaultChild?: unknown } }).node.defaultChild ?? construct;
  return stack.getLogicalId(child as never);
}
