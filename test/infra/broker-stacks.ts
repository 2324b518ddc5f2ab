import { join } from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
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

export interface BrokerStack {
  readonly stack: Stack;
  readonly broker: Nocreds;
  readonly template: Template;
}

/**
 * Two brokers in one app, synthesized once per test file: bundling is skipped (the bundle test
 * builds every function with esbuild), cdk-nag's AwsSolutions pack runs on both.
 * - `minimal`: path opt-in, the CA the grant policy names, revocation off, defaults everywhere;
 * - `full`: tag opt-in across two accounts, two CAs, revocation on (and so a revoker role), alarm
 *   topic, access-log bucket.
 */
export function synthBrokers(): { minimal: BrokerStack; full: BrokerStack } {
  // CloudFormation schema validation (about 10 s of WASM) runs in `npm run synth`, not here.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const env = { account: ACCOUNT, region: 'eu-west-1' };

  const minimalStack = new Stack(app, 'Minimal', { env });
  const minimal = new Nocreds(minimalStack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
  new BrokeredRole(minimalStack, 'Deployer', { broker: minimal, roleName: 'ci-deployer' });

  const fullStack = new Stack(app, 'Full', { env });
  const full = new Nocreds(fullStack, 'Broker', {
    grantPolicyFile: EXAMPLE_GRANTS,
    brokeredRoles: BrokeredRoleOptIn.byTag('nocreds:brokered', 'true', { accounts: [ACCOUNT, OTHER_ACCOUNT] }),
    certificateAuthorityArns: [CA_ARN, SECOND_CA_ARN],
    credentialRevocation: true,
    alarmTopic: new sns.Topic(fullStack, 'Alarms', { enforceSSL: true, masterKey: kms.Alias.fromAliasName(fullStack, 'SnsKey', 'alias/aws/sns') }),
    serverAccessLogsBucket: s3.Bucket.fromBucketName(fullStack, 'AccessLogs', 'example-access-logs'),
    serverId: 'broker.example.org',
    logLevel: 'DEBUG',
  });
  // With revocation on, a BrokeredRole brings its account's revoker role.
  new BrokeredRole(fullStack, 'App', { broker: full, roleName: 'app' });

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
