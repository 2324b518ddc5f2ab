import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from './domain/errors';
import { validateGrantPolicy, webIdentityRuleIds, type GrantPolicy } from './domain/grant-policy';
import { DEFAULT_PENDING_GRACE_SECONDS, DEFAULT_RECONCILE_GRACE_SECONDS, MAX_PENDING_GRACE_SECONDS, MIN_PENDING_GRACE_SECONDS, MIN_RECONCILE_GRACE_SECONDS } from './domain/lease';
import type { IssuerSettings } from './domain/web-identity';

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
  /** Limits of every AWS call (AWS_CALL_LIMITS unless NOCREDS_AWS_* override them: local runs and tests). */
  readonly awsCallLimits?: AwsCallLimits;
  /** Issuer mode (`credentials.via: web-identity`): the broker's OIDC issuer and its KMS keys. Absent: no rule may use web-identity. */
  readonly issuer?: IssuerModeConfig;
}

/** The broker as an OIDC issuer: who it is, for whom it signs, and with which KMS keys. */
export interface IssuerModeConfig extends IssuerSettings {
  /** The KMS key (ARN) that signs tokens now. */
  readonly signingKeyId: string;
  /** Every key published in the JWKS, the signing key included (rotation: the next key before it signs, the last until its tokens expire). */
  readonly publishedKeyIds: readonly string[];
}

/** What IAM OIDC providers are normally created with as client id (audience) for STS. */
export const DEFAULT_ISSUER_AUDIENCE = 'sts.amazonaws.com';

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigurationError('missing_setting', `The environment variable ${name} must be set.`);
  return value;
}

/**
 * The grant policy as JSON: the CDK construct converts the YAML or JSON file to JSON (validating
 * it with line numbers) at synth time, so the functions need no YAML parser.
 */
function grantPolicyFromJson(text: string, source: string): GrantPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('invalid_grant_policy', `${source} is not JSON; convert YAML with the CDK construct or \`npx tsx scripts/grants-to-json.ts\`.`, { cause: error });
  }
  return validateGrantPolicy(value, source);
}

export function loadGrantPolicy(env: Env): GrantPolicy {
  if (env.NOCREDS_GRANT_POLICY) return grantPolicyFromJson(env.NOCREDS_GRANT_POLICY, 'NOCREDS_GRANT_POLICY');
  const file = env.NOCREDS_GRANT_POLICY_FILE ?? `${env.LAMBDA_TASK_ROOT ?? '.'}/grants.json`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError('missing_grant_policy', `The grant policy file ${file} cannot be read.`, { cause: error });
  }
  return grantPolicyFromJson(text, file);
}

/** What verifying GetCallerIdentity proofs needs; functions without a lease table (whoami) read only this. */
export function loadCallerProofConfig(env: Env = process.env): Pick<BrokerConfig, 'region' | 'awsEndpoint' | 'serverId' | 'awsCallLimits'> {
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    awsEndpoint: env.NOCREDS_AWS_ENDPOINT || undefined,
    serverId: serverIdOf(env),
    awsCallLimits: awsCallLimitsFrom(env),
  };
}

function wholeNumber(env: Env, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new ConfigurationError('invalid_setting', `${name} must be a whole number, at least ${min}.`);
  return value;
}

/**
 * AWS_CALL_LIMITS, or what NOCREDS_AWS_CONNECT_TIMEOUT_MS, NOCREDS_AWS_REQUEST_TIMEOUT_MS and
 * NOCREDS_AWS_MAX_ATTEMPTS say instead: for local runs against a slow emulator and for fault tests.
 * Deployments leave them unset (infra does not set them).
 */
export function awsCallLimitsFrom(env: Env): AwsCallLimits {
  return {
    connectionTimeoutMs: wholeNumber(env, 'NOCREDS_AWS_CONNECT_TIMEOUT_MS', AWS_CALL_LIMITS.connectionTimeoutMs, 1),
    requestTimeoutMs: wholeNumber(env, 'NOCREDS_AWS_REQUEST_TIMEOUT_MS', AWS_CALL_LIMITS.requestTimeoutMs, 1),
    maxAttempts: wholeNumber(env, 'NOCREDS_AWS_MAX_ATTEMPTS', AWS_CALL_LIMITS.maxAttempts, 1),
  };
}

/**
 * A deployed broker must name itself (infra sets a per-deployment id): a shared default would let
 * a proof made for one broker be replayed at another. Only local runs fall back to `nocreds-local`.
 */
function serverIdOf(env: Env): string {
  if (env.NOCREDS_SERVER_ID) return env.NOCREDS_SERVER_ID;
  if (env.AWS_LAMBDA_FUNCTION_NAME) throw new ConfigurationError('missing_setting', 'NOCREDS_SERVER_ID must be set in Lambda: it binds GetCallerIdentity proofs to this one broker.');
  return 'nocreds-local';
}

export function loadConfig(env: Env = process.env): BrokerConfig {
  const retentionDays = Number(env.NOCREDS_LEASE_RETENTION_DAYS ?? '90');
  if (!Number.isFinite(retentionDays) || retentionDays < 1) {
    throw new ConfigurationError('invalid_setting', 'NOCREDS_LEASE_RETENTION_DAYS must be a number of days, at least 1.');
  }
  const issuer = loadIssuerConfig(env);
  return {
    ...loadCallerProofConfig(env),
    tableName: required(env, 'NOCREDS_TABLE_NAME'),
    grants: loadGrantPolicy(env),
    leaseRetentionSeconds: retentionDays * 24 * 3600,
    ...(issuer ? { issuer } : {}),
  };
}

/**
 * The configuration of a function that vends credentials (credentials, and leases for renewals):
 * as loadConfig, and a grant policy with `via: web-identity` rules needs the issuer, or the cold
 * start fails here rather than every such vend later.
 */
export function loadVendingConfig(env: Env = process.env): BrokerConfig {
  const config = loadConfig(env);
  const webIdentityRules = webIdentityRuleIds(config.grants);
  if (webIdentityRules.length > 0 && !config.issuer) {
    throw new ConfigurationError(
      'issuer_not_configured',
      `The grant policy's rule${webIdentityRules.length > 1 ? 's' : ''} ${webIdentityRules.map((id) => `"${id}"`).join(', ')} use${webIdentityRules.length > 1 ? '' : 's'} credentials.via: web-identity, but no issuer is configured: set NOCREDS_ISSUER_URL and NOCREDS_ISSUER_SIGNING_KEY (the Nocreds construct does when the policy has such a rule).`,
    );
  }
  return config;
}

const ISSUER_VARIABLES = ['NOCREDS_ISSUER_URL', 'NOCREDS_ISSUER_SIGNING_KEY', 'NOCREDS_ISSUER_AUDIENCE', 'NOCREDS_ISSUER_PUBLISHED_KEYS'] as const;
const KMS_KEY_ARN = /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key\/[\w-]+|alias\/[\w/.-]+)$/;

/**
 * Issuer mode's settings: NOCREDS_ISSUER_URL (https, or http on loopback for local runs; no query
 * or fragment: IAM fetches `<url>/.well-known/openid-configuration`), NOCREDS_ISSUER_SIGNING_KEY
 * (a KMS key ARN), NOCREDS_ISSUER_AUDIENCE (default sts.amazonaws.com) and
 * NOCREDS_ISSUER_PUBLISHED_KEYS (comma-separated key ARNs, the signing key among them; default: the
 * signing key alone). None set: no issuer. Some but not all, or inconsistent: refused at load.
 */
export function loadIssuerConfig(env: Env = process.env): IssuerModeConfig | undefined {
  const set = ISSUER_VARIABLES.filter((name) => env[name]);
  if (set.length === 0) return undefined;
  const url = env.NOCREDS_ISSUER_URL;
  const signingKeyId = env.NOCREDS_ISSUER_SIGNING_KEY;
  if (!url || !signingKeyId) {
    throw new ConfigurationError('invalid_issuer', `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but issuer mode needs both NOCREDS_ISSUER_URL and NOCREDS_ISSUER_SIGNING_KEY.`);
  }
  const issuer = issuerUrl(url);
  const audience = env.NOCREDS_ISSUER_AUDIENCE || DEFAULT_ISSUER_AUDIENCE;
  if (audience.length > 255 || /[\s,]/.test(audience)) {
    throw new ConfigurationError('invalid_issuer', 'NOCREDS_ISSUER_AUDIENCE must be one client id of at most 255 characters, without spaces or commas (IAM matches it against the OIDC provider\'s client ids).');
  }
  const published = env.NOCREDS_ISSUER_PUBLISHED_KEYS
    ? env.NOCREDS_ISSUER_PUBLISHED_KEYS.split(',').map((k) => k.trim()).filter((k) => k !== '')
    : [signingKeyId];
  for (const key of [signingKeyId, ...published]) {
    if (!KMS_KEY_ARN.test(key)) throw new ConfigurationError('invalid_issuer', `"${key}" is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or .../alias/NAME); issuer keys are named by ARN.`);
  }
  if (!published.includes(signingKeyId)) {
    throw new ConfigurationError(
      'invalid_issuer',
      'NOCREDS_ISSUER_PUBLISHED_KEYS must include NOCREDS_ISSUER_SIGNING_KEY: a key must be published (and fetched by STS) before it signs, or its tokens are refused.',
    );
  }
  return { issuer, audience, signingKeyId, publishedKeyIds: [...new Set(published)] };
}

function issuerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError('invalid_issuer', `NOCREDS_ISSUER_URL "${text}" is not a URL; it looks like https://nocreds.example.org.`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigurationError('invalid_issuer', 'NOCREDS_ISSUER_URL must use https (IAM fetches the discovery document over HTTPS); plain http only on loopback for local runs.');
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigurationError('invalid_issuer', 'NOCREDS_ISSUER_URL must have no query, fragment or credentials: it is the token\'s `iss` and the base of /.well-known/openid-configuration.');
  }
  // `iss` must equal the URL the OIDC provider was created with, so one spelling: no trailing slash.
  return url.href.replace(/\/+$/, '');
}

/** Settings of the lease functions (listing, revocation, the renewal and audit jobs). */
export interface LeaseOperationsConfig {
  /** Block revoked credentials sessions with an inline deny policy on their role (needs iam:PutRolePolicy). */
  readonly revocationEnabled: boolean;
  /** Names of the broker-managed inline deny policies on opted-in roles start with this. */
  readonly revocationPolicyPrefix: string;
  /** Path and name of the revoker role the broker assumes in a brokered role's account to write those policies. */
  readonly revokerRoleName?: string;
  /** EventBridge bus for nocreds events; unset: events are not published. */
  readonly eventBusName?: string;
  /** S3 bucket (and key prefix) for audit reports. */
  readonly reportBucket?: string;
  readonly reportPrefix: string;
  /** How long a lease may stay pending before the renewal job settles it (blocks its session, revokes its certificate). */
  readonly pendingGraceSeconds: number;
}

export function loadLeaseOperationsConfig(env: Env = process.env): LeaseOperationsConfig {
  return {
    ...revocationSettings(env),
    eventBusName: env.NOCREDS_EVENT_BUS_NAME || undefined,
    reportBucket: env.NOCREDS_REPORT_BUCKET || undefined,
    reportPrefix: (env.NOCREDS_REPORT_PREFIX ?? 'audit/').replace(/^\/+/, ''),
    pendingGraceSeconds: pendingGraceSeconds(env),
  };
}

function flag(env: Env, name: string): boolean {
  const value = env[name] ?? 'false';
  if (value !== 'true' && value !== 'false') throw new ConfigurationError('invalid_setting', `${name} must be "true" or "false".`);
  return value === 'true';
}

/** How sessions are blocked: shared by the lease functions and the reconciler. */
function revocationSettings(env: Env): Pick<LeaseOperationsConfig, 'revocationEnabled' | 'revocationPolicyPrefix' | 'revokerRoleName'> {
  return {
    revocationEnabled: flag(env, 'NOCREDS_REVOCATION_ENABLED'),
    revocationPolicyPrefix: env.NOCREDS_REVOCATION_POLICY_PREFIX || 'nocreds-revoked',
    // Unset: the adapter's default (DEFAULT_REVOKER_ROLE_NAME), which BrokeredRole also uses.
    revokerRoleName: env.NOCREDS_REVOKER_ROLE_NAME || undefined,
  };
}

/** Settings of the CloudTrail reconciler (functions/reconciler). */
export interface ReconcilerConfig extends Pick<LeaseOperationsConfig, 'revocationEnabled' | 'revocationPolicyPrefix' | 'revokerRoleName'> {
  /** The broker's roles whose AssumeRole calls must each end as a lease (NOCREDS_BROKER_ROLE_ARNS, comma-separated). */
  readonly brokerRoleArns: string[];
  /** Issuer-mode OIDC providers, as CloudTrail names them (NOCREDS_BROKER_WEB_IDENTITY_PROVIDERS, comma-separated). */
  readonly webIdentityProviders: string[];
  /** How long after STS issued a session its lease may be looked for (NOCREDS_RECONCILE_GRACE_SECONDS). */
  readonly graceSeconds: number;
  /** Also block sessions on brokered roles that nocreds did not mint (NOCREDS_REVOKE_OUTSIDE_SESSIONS). */
  readonly revokeOutsideSessions: boolean;
}

/** Fails the cold start without the broker's role ARNs: the reconciler could then tell no session apart. */
export function loadReconcilerConfig(env: Env = process.env): ReconcilerConfig {
  const list = (name: string) => (env[name] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  const brokerRoleArns = list('NOCREDS_BROKER_ROLE_ARNS');
  const bad = brokerRoleArns.filter((arn) => !/^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(arn));
  if (brokerRoleArns.length === 0 || bad.length > 0) {
    throw new ConfigurationError('invalid_setting', `NOCREDS_BROKER_ROLE_ARNS must list the broker's IAM role ARNs, comma-separated${bad.length > 0 ? `; not role ARNs: ${bad.join(', ')}` : ''}.`);
  }
  return {
    ...revocationSettings(env),
    brokerRoleArns,
    webIdentityProviders: list('NOCREDS_BROKER_WEB_IDENTITY_PROVIDERS'),
    graceSeconds: wholeNumber(env, 'NOCREDS_RECONCILE_GRACE_SECONDS', DEFAULT_RECONCILE_GRACE_SECONDS, MIN_RECONCILE_GRACE_SECONDS),
    revokeOutsideSessions: flag(env, 'NOCREDS_REVOKE_OUTSIDE_SESSIONS'),
  };
}

/**
 * Where the HMAC key of lease-listing cursors comes from. The key itself is never in the
 * environment: in Lambda, NOCREDS_CURSOR_KEY_SECRET_ARN names a Secrets Manager secret (infra creates
 * it) that the leases function reads once at init (shared/adapters/cursor-key.ts); every instance
 * must share it, so it is required there. Locally, without a secret, a random per-process key is
 * enough: cursors only need to outlive one listing.
 */
export type CursorKeySource = { readonly secretArn: string } | { readonly random: true };

export function cursorKeySourceFrom(env: Env = process.env): CursorKeySource {
  const secretArn = env.NOCREDS_CURSOR_KEY_SECRET_ARN;
  if (secretArn) {
    if (!/^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(secretArn)) {
      throw new ConfigurationError('invalid_setting', 'NOCREDS_CURSOR_KEY_SECRET_ARN must be a Secrets Manager secret ARN.');
    }
    return { secretArn };
  }
  if (env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new ConfigurationError('missing_setting', 'NOCREDS_CURSOR_KEY_SECRET_ARN must be set in Lambda: every instance must accept the cursors of the others.');
  }
  return { random: true };
}

/** The shortest secret accepted as a cursor key: 32 characters (infra generates 64). */
export const MIN_CURSOR_SECRET_LENGTH = 32;

/** A fixed-length HMAC key derived from the secret's text, whatever its alphabet. */
export function cursorKeyFromSecret(secret: string): Buffer {
  if (secret.length < MIN_CURSOR_SECRET_LENGTH) {
    throw new ConfigurationError('invalid_setting', `The cursor-key secret must be a random string of at least ${MIN_CURSOR_SECRET_LENGTH} characters.`);
  }
  return createHash('sha256').update('nocreds-cursor-v1\n').update(secret, 'utf8').digest();
}

export function randomCursorKey(): Buffer {
  return randomBytes(32);
}

/** Log levels the functions accept (NOCREDS_LOG_LEVEL); the audit lines of decisions are INFO. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export function logLevelFrom(env: Env = process.env): LogLevelName {
  const text = (env.NOCREDS_LOG_LEVEL || env.POWERTOOLS_LOG_LEVEL || 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(text)) throw new ConfigurationError('invalid_setting', `NOCREDS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
  return text as LogLevelName;
}

/** X-Ray tracing (NOCREDS_TRACING=true, set by infra with the construct's `tracing` prop); off by default. */
export function tracingFrom(env: Env = process.env): boolean {
  const text = env.NOCREDS_TRACING ?? 'false';
  if (text !== 'true' && text !== 'false') throw new ConfigurationError('invalid_setting', 'NOCREDS_TRACING must be "true" or "false".');
  return text === 'true';
}

function pendingGraceSeconds(env: Env): number {
  const text = env.NOCREDS_PENDING_GRACE_SECONDS;
  if (text === undefined || text === '') return DEFAULT_PENDING_GRACE_SECONDS;
  const value = Number(text);
  if (!Number.isInteger(value) || value < MIN_PENDING_GRACE_SECONDS || value > MAX_PENDING_GRACE_SECONDS) {
    throw new ConfigurationError(
      'invalid_setting',
      `NOCREDS_PENDING_GRACE_SECONDS must be a whole number of seconds from ${MIN_PENDING_GRACE_SECONDS} (longer than any request holds a lease pending) to ${MAX_PENDING_GRACE_SECONDS} (so a lease is settled before the shortest session expires).`,
    );
  }
  return value;
}

/**
 * How long any one AWS call may take: the one place these numbers live. Each attempt may spend
 * `connectionTimeoutMs` connecting and `requestTimeoutMs` waiting on a silent socket; `maxAttempts`
 * bounds the retries (throttling and transient faults). A hung or timed-out dependency then becomes
 * a 503 `*_unavailable` with Retry-After (shared/adapters/sdk-errors.ts), well before the function
 * times out: `awsCallBudgetMs()` is under every API function's timeout and API Gateway's 29 s
 * (test/infra/aws-call-budget.test.ts). Tests pass their own limits to `sdkClientConfig`.
 */
export interface AwsCallLimits {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

export const AWS_CALL_LIMITS: AwsCallLimits = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 };

/** The SDK's standard retry strategy waits at most this long before a retry (throttling backoff, 2^1 x 500 ms). */
const MAX_RETRY_DELAY_MS = 1_000;

/** The longest one SDK call can take under these limits, retries and backoff included. */
export function awsCallBudgetMs(limits: AwsCallLimits = AWS_CALL_LIMITS): number {
  return limits.maxAttempts * (limits.connectionTimeoutMs + limits.requestTimeoutMs) + (limits.maxAttempts - 1) * MAX_RETRY_DELAY_MS;
}

/** Settings for every AWS SDK client the functions build: region, endpoint, timeouts, retries. */
export function sdkClientConfig(config: Pick<BrokerConfig, 'region' | 'awsEndpoint' | 'awsCallLimits'>, limits: AwsCallLimits = config.awsCallLimits ?? AWS_CALL_LIMITS) {
  return {
    region: config.region,
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
    // Bounded: a throttled STS must not be hammered, and API Gateway gives up after 29 s.
    maxAttempts: limits.maxAttempts,
    // Without these the SDK waits on a silent socket forever (its default request timeout is 0).
    requestHandler: { connectionTimeout: limits.connectionTimeoutMs, requestTimeout: limits.requestTimeoutMs },
  };
}
