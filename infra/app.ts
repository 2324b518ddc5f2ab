import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NocredsStack, stackPropsFromContext, type StackContext } from './stack';

/**
 * The example app behind `npm run synth` and `npx cdk deploy`. Configure it with context, e.g.
 *   npx cdk deploy -c grants=./grants.yaml -c optInPath=/nocreds/
 * (all keys in StackContext, infra/stack.ts). Without an account in the environment the stack is
 * environment-agnostic, so it synthesizes offline.
 */
const app = new App();
const keys: (keyof StackContext)[] = ['grants', 'optInPath', 'optInTag', 'accounts', 'certificateAuthorityArns', 'credentialRevocation', 'brokeredRoles', 'logLevel'];
const context = Object.fromEntries(keys.map((key) => [key, app.node.tryGetContext(key) as string | undefined]).filter(([, value]) => value !== undefined));

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new NocredsStack(app, app.node.tryGetContext('stackName') ?? 'Nocreds', {
  ...stackPropsFromContext(context),
  ...(account && region ? { env: { account, region } } : {}),
});

// cdk-nag on every synth: findings fail `cdk synth` as errors (the construct suppresses, with reasons, only what it must).
Aspects.of(app).add(new AwsSolutionsChecks());
