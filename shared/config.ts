import { readFileSync } from 'node:fs';
import { ConfigurationError } from './domain/errors';
import { parseGrantPolicy, type GrantPolicy } from './domain/grant-policy';

/**
 * The one configuration loader. Every function reads its settings from the environment here, once,
 * at module scope; a bad setting fails the cold start loudly rather than a request quietly.
 */
export interface BrokerConfig {
  readonly region: string;
  /** Only for local runs and tests: where to send AWS API calls (a moto server). */
  readonly awsEndpoint?: string;
  readonly tableName: string;
  readonly grants: GrantPolicy;
  readonly leaseRetentionSeconds: number;
  /** Identifies this broker in signed GetCallerIdentity proofs, so a proof cannot be replayed elsewhere. */
  readonly serverId: string;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigurationError('missing_setting', `The environment variable ${name} must be set.`);
  return value;
}

export function loadGrantPolicy(env: Env): GrantPolicy {
  if (env.NOCREDS_GRANT_POLICY) return parseGrantPolicy(env.NOCREDS_GRANT_POLICY, 'NOCREDS_GRANT_POLICY');
  const file = env.NOCREDS_GRANT_POLICY_FILE ?? `${env.LAMBDA_TASK_ROOT ?? '.'}/grants.json`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError('missing_grant_policy', `The grant policy file ${file} cannot be read.`, { cause: error });
  }
  return parseGrantPolicy(text, file);
}

export function loadConfig(env: Env = process.env): BrokerConfig {
  const retentionDays = Number(env.NOCREDS_LEASE_RETENTION_DAYS ?? '90');
  if (!Number.isFinite(retentionDays) || retentionDays < 1) {
    throw new ConfigurationError('invalid_setting', 'NOCREDS_LEASE_RETENTION_DAYS must be a number of days, at least 1.');
  }
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    awsEndpoint: env.NOCREDS_AWS_ENDPOINT || undefined,
    tableName: required(env, 'NOCREDS_TABLE_NAME'),
    grants: loadGrantPolicy(env),
    leaseRetentionSeconds: retentionDays * 24 * 3600,
    serverId: env.NOCREDS_SERVER_ID ?? 'nocreds',
  };
}

/** Settings for every AWS SDK client the functions build. */
export function sdkClientConfig(config: Pick<BrokerConfig, 'region' | 'awsEndpoint'>) {
  return {
    region: config.region,
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
    // Bounded: API Gateway gives up after 30 s, and a throttled STS must not be hammered.
    maxAttempts: 3,
  };
}
