import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetRandomPasswordCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createTableInput } from '../shared/adapters/dynamo-lease-table';
import { webIdentityRuleIds } from '../shared/domain/grant-policy';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';
import { startDevIssuer, type DevIssuer } from './dev-issuer';
import { createActiveCa, type ActiveCa } from './moto-ca';
import { startMoto, type MotoServer } from './moto-server';
import { startLocalBroker, type LocalBroker } from './server';

/**
 * The whole broker on one machine: a moto server standing in for AWS (STS, DynamoDB, IAM, ACM PCA,
 * S3, EventBridge, Secrets Manager), the lease table, the cursor-key secret, demo roles, a development OIDC issuer, and the Lambda handlers
 * served over HTTP. Used by `npm run demo`, the end-to-end tests and the benchmarks.
 */
export interface LocalStack {
  readonly moto: MotoServer;
  readonly issuer: DevIssuer;
  readonly broker: LocalBroker;
  readonly tableName: string;
  readonly accountId: string;
  /** The active private CA the `mesh` certificate profile issues from. */
  readonly ca: ActiveCa;
  /** Issuer mode, when the grant policy has a `via: web-identity` rule: the KMS key (in moto) that signs, and the issuer URL (the local broker's). */
  readonly issuerKeyArn?: string;
  /** Mints a Kubernetes-style service-account token from the development issuer. */
  serviceAccountToken(namespace: string, serviceAccount?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  readonly brokerPort?: number;
  readonly issuerPort?: number;
  /** A grant policy file; `@DEV_ISSUER_URL@` in it is replaced by the issuer's URL. */
  readonly grantsFile?: string;
  readonly demoRoles?: readonly string[];
}

export const LOCAL_ACCOUNT = '123456789012';
const TABLE = 'nocreds-leases';

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const moto = await startMoto();
  const issuer = await startDevIssuer({ port: options.issuerPort, mintEndpoint: true });
  try {
    const clientConfig = { region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const ca = await createActiveCa(new ACMPCAClient(clientConfig));
    const grantsFile = options.grantsFile ?? join(__dirname, 'grants.yaml');
    const grantsText = readFileSync(grantsFile, 'utf8').replaceAll('@DEV_ISSUER_URL@', issuer.url).replaceAll('@CA_ARN@', ca.caArn);
    // Validated here with line numbers, and handed to the functions as JSON, as infra/ does.
    const policy = parseGrantPolicy(grantsText, grantsFile);
    const grants = JSON.stringify(policy);
    // Only moto is ever called: dummy credentials, so real ones on this machine are never used.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      NOCREDS_AWS_ENDPOINT: moto.endpoint,
      NOCREDS_TABLE_NAME: TABLE,
      NOCREDS_GRANT_POLICY: grants,
      NOCREDS_SERVER_ID: process.env.NOCREDS_SERVER_ID ?? 'nocreds-local',
      // Every request would print an embedded-metric-format line between the demo's output; set
      // POWERTOOLS_METRICS_DISABLED=false to see them locally.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    await new DynamoDBClient(clientConfig).send(new CreateTableCommand(createTableInput(TABLE)));
    // The cursor key as infra deploys it: a generated secret whose ARN (only) the leases function gets.
    const secrets = new SecretsManagerClient(clientConfig);
    const { RandomPassword } = await secrets.send(new GetRandomPasswordCommand({ PasswordLength: 64, ExcludePunctuation: true }));
    const { ARN: cursorKeySecretArn } = await secrets.send(new CreateSecretCommand({ Name: 'nocreds-cursor-key', SecretString: RandomPassword }));
    process.env.NOCREDS_CURSOR_KEY_SECRET_ARN = cursorKeySecretArn;
    const iam = new IAMClient(clientConfig);
    for (const name of options.demoRoles ?? ['team-a-app', 'team-b-app']) {
      await iam.send(
        new CreateRoleCommand({
          RoleName: name,
          Tags: [{ Key: 'nocreds:brokered', Value: 'true' }],
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT}:role/nocreds-broker` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }],
          }),
        }),
      );
    }
    // Issuer mode: the broker is its own issuer at its own URL, signing with a KMS key in moto.
    let issuerKeyArn: string | undefined;
    if (webIdentityRuleIds(policy).length > 0) {
      const { KeyMetadata } = await new KMSClient(clientConfig).send(
        new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'nocreds local issuer' }),
      );
      issuerKeyArn = KeyMetadata?.Arn;
    }
    const broker = await startLocalBroker({ port: options.brokerPort });
    // Before the first request: the handlers read the environment when first loaded.
    if (issuerKeyArn) Object.assign(process.env, { NOCREDS_ISSUER_URL: broker.url, NOCREDS_ISSUER_SIGNING_KEY: issuerKeyArn });
    else for (const name of ['NOCREDS_ISSUER_URL', 'NOCREDS_ISSUER_SIGNING_KEY', 'NOCREDS_ISSUER_AUDIENCE', 'NOCREDS_ISSUER_PUBLISHED_KEYS']) delete process.env[name];
    return {
      moto,
      issuer,
      broker,
      tableName: TABLE,
      accountId: LOCAL_ACCOUNT,
      ca,
      ...(issuerKeyArn ? { issuerKeyArn } : {}),
      serviceAccountToken: (namespace, serviceAccount = 'app') =>
        issuer.mint({ sub: `system:serviceaccount:${namespace}:${serviceAccount}`, 'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: `${namespace}-${serviceAccount}` } } }),
      async stop() {
        await broker.stop();
        await issuer.stop();
        await moto.stop();
      },
    };
  } catch (error) {
    await issuer.stop();
    await moto.stop();
    throw error;
  }
}
