// @ts-nocheck
import { CredentialsProviderError } from '@smithy/property-provider';
import { BrokerClient, type BrokerAuth, type BrokerClientOptions } from './broker-client';
import { NocredsClientError } from './errors';

export type { BrokerAuth } from './broker-client';
export { NocredsClientError } from './errors';

export interface NocredsProviderInit extends Omit<BrokerClientOptions, 'auth'> {
  /** The role to vend, e.g. `arn:aws:iam::123456789012:role/team-a-app`. */
  readonly role: string;
  readonly auth: BrokerAuth;
  /** 900 to 3600; default the broker's (3600, or the grant's maximum). Keep it well over 5 minutes. */
  readonly durationSeconds?: number;
  /** An inline session policy narrowing the session further than the grant does. */
  readonly policy?: string | Record<string, unknown>;
  readonly policyArns?: readonly string[];
}

/** The credentials the provider returns: what every AWS SDK v3 client accepts, with the lease. */
export interface NocredsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly accountId?: string;
  /** The broker's record of this grant: `GET /v1/leases/{leaseId}`. */
  readonly leaseId: string;
}

/** Why fromNocreds failed: a CredentialsProviderError that always stops the chain. */
export class NocredsCredentialsError extends CredentialsProviderError {
  override name = 'NocredsCredentialsError';
  readonly kind: NocredsClientError['kind'];
  readonly code: string;
  readonly status?: number;
  readonly requestId?: string;

  constructor(cause: NocredsClientError) {
    // tryNextLink false: a workload configured for nocreds must never fall back to another identity.
    super(`nocreds: ${cause.message}`, false);
    // The base class pins its own prototype (an ES5-era workaround); restore ours for instanceof.
    Object.setPrototypeOf(this, new.target.prototype);
    this.kind = cause.kind;
    this.code = cause.code;
    this.status = cause.status;
    this.requestId = cause.requestId;
    this.cause = cause;
  }
}

interface VendResponse {
  leaseId?: unknown;
  accessKeyId?: unknown;
  secretAccessKey?: unknown;
  sessionToken?: unknown;
  expiration?: unknown;
  assumedRoleArn?: unknown;
}

function malformed(message: string): NocredsClientError {
  return new NocredsClientError('broker', 'malformed_credentials', message);
}

/** Checks a `POST /v1/credentials` answer; nothing incomplete or already expired gets out. */
export function credentialsFromResponse(body: unknown, now: Date = new Date()): NocredsCredentials {
  const r = (body ?? {}) as VendResponse;
  if (typeof body !== 'object' || body === null) throw malformed('The broker answered with something other than a credentials object.');
  const missing = (['leaseId', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'] as const).filter((k) => typeof r[k] !== 'string' || r[k] === '');
  if (missing.length > 0) throw malformed(`The broker's credentials are missing ${missing.join(', ')}.`);
  const expiration = new Date(r.expiration as string);
  if (Number.isNaN(expiration.getTime())) throw malformed('The broker\'s credentials have an expiration that is not a date.');
  if (expiration.getTime() <= now.getTime()) throw new NocredsClientError('broker', 'expired_credentials', `The broker returned credentials that expired at ${expiration.toISOString()}; check the clocks of this machine and the broker.`);
  const accountId = typeof r.assumedRoleArn === 'string' ? /^arn:[\w-]+:sts::(\d{12}):/.exec(r.assumedRoleArn)?.[1] : undefined;
  return {
    accessKeyId: r.accessKeyId as string,
    secretAccessKey: r.secretAccessKey as string,
    sessionToken: r.sessionToken as string,
    expiration,
    ...(accountId ? { accountId } : {}),
    leaseId: r.leaseId as string,
  };
}

/**
 * An AWS SDK for JavaScript v3 credential provider that asks a nocreds broker for short-lived
 * credentials for one role. The SDK client memoizes it: concurrent requests share one call, and it
 * is called again when fewer than 5 minutes remain. When it fails it throws a
 * {@link NocredsCredentialsError} with `tryNextLink: false`: never another identity.
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { fromNocreds } from 'nocreds/client/provider';
 *
 * const s3 = new S3Client({
 *   credentials: fromNocreds({
 *     url: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
 *     role: 'arn:aws:iam::123456789012:role/team-a-app',
 *     auth: { oidc: { tokenFile: '/var/run/secrets/nocreds/token' } },
 *   }),
 * });
 */
export function fromNocreds(init: NocredsProviderInit): () => Promise<NocredsCredentials> {
  let broker: BrokerClient;
  try {
    if (typeof init.role !== 'string' || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(init.role)) {
      throw new NocredsClientError('usage', 'invalid_role', `fromNocreds needs role, a role ARN such as arn:aws:iam::123456789012:role/NAME (got ${JSON.stringify(init.role)}).`);
    }
    broker = new BrokerClient(init);
  } catch (error) {
    // Thrown at construction: a misconfigured provider is a programming error, seen at start-up.
    if (error instanceof NocredsClientError) throw new NocredsCredentialsError(error);
    throw error;
  }
  const request = {
    role: init.role,
    ...(init.durationSeconds === undefined ? {} : { durationSeconds: init.durationSeconds }),
    ...(init.policy === undefined ? {} : { policy: init.policy }),
    ...(init.policyArns === undefined ? {} : { policyArns: [...init.policyArns] }),
  };
  return async () => {
    try {
      return credentialsFromResponse(await broker.call('POST', '/v1/credentials', { body: request }));
    } catch (error) {
      throw new NocredsCredentialsError(error instanceof NocredsClientError ? error : new NocredsClientError('broker', 'unexpected_error', (error as Error)?.message ?? String(error), { cause: error }));
    }
  };
}
