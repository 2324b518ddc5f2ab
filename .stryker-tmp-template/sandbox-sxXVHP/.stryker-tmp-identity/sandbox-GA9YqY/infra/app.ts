// @ts-nocheck
// 
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NocredsError } from '../shared/domain/errors';
import { NocredsStack, stackPropsFromContext, type StackContext } from './stack';

/**
 * The example app behind `npm run synth` and `npx cdk deploy`. Configure it with context, e.g.
 *   npx cdk deploy -c grants=./grants.yaml -c optInPath=/nocreds/ -c alarmEmail=oncall@example.org
 * (all keys in StackContext, infra/stack.ts). Without an account in the environment the stack is
 * environment-agnostic, so it synthesizes offline.
 */
function main(): void {
  const app = new App();
  const keys: (keyof StackContext)[] = ['grants', 'optInPath', 'optInTag', 'accounts', 'certificateAuthorityArns', 'credentialRevocation', 'brokeredRoles', 'logLevel', 'alarmEmail', 'alarmTopicArn', 'reservedConcurrency', 'tracing'];
  const context = Object.fromEntries(keys.map((key) => [key, app.node.tryGetContext(key) as string | undefined]).filter(([, value]) => value !== undefined));

  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  new NocredsStack(app, app.node.tryGetContext('stackName') ?? 'Nocreds', {
    ...stackPropsFromContext(context),
    ...(account && region ? { env: { account, region } } : {}),
  });

  // cdk-nag on every synth: findings fail `cdk synth` as errors (the construct suppresses, with reasons, only what it must).
  Aspects.of(app).add(new AwsSolutionsChecks());
}

/**
 * A mistake in what the deployer wrote (the grant policy, a `-c` value) is told as its message
 * alone, e.g. `grants.yaml:7 rules[0].credentials.roles[0]: ...`: a stack trace would bury it.
 * Anything else is a bug and keeps its stack trace.
 */
function isDeployerMistake(error: unknown): error is Error {
  return error instanceof NocredsError || (error instanceof Error && error.message.startsWith('nocreds: '));
}

try {
  main();
} catch (error) {
  if (!isDeployerMistake(error)) throw error;
  process.stderr.write(`${error.message.startsWith('nocreds: ') ? '' : 'nocreds: '}${error.message}\n`);
  // Exit now: the App would otherwise still synthesize the half-built stack on its way out.
  process.exit(1);
}
