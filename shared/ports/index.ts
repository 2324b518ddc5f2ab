import type { Lease, LeaseStatus, LeaseKind } from '../domain/lease';
import type { SessionRequest } from '../domain/session';
import type { Identity } from '../domain/identity';
import type { RevocationReason } from '../domain/certificate-profile';

/**
 * Ports: what the use cases need from the outside world. Adapters in shared/adapters implement
 * them with the AWS SDK; unit tests use the in-memory fakes in test/fakes.
 */

export interface AssumedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
  /** Percentage of STS's packed-size limit the policy and tags used. */
  readonly packedPolicySize?: number;
}

/** Calls STS AssumeRole. Errors are domain errors (throttling -> DependencyUnavailableError, ...). */
export interface RoleAssumer {
  assumeRole(request: SessionRequest): Promise<AssumedSession>;
}

/** A published verification key (a JWK with `kid`, `alg` and `use: sig`). */
export type PublicJwk = Readonly<Record<string, unknown>> & { readonly kid: string; readonly alg: string };

/**
 * Signs the broker's web identity tokens (issuer mode) with a key it never holds (KMS), and
 * publishes the verification keys: every key that may have signed a live token, and the next
 * key before it signs anything (rotation).
 */
export interface TokenSigner {
  /** A compact JWS (`header.payload.signature`) of these claims, with `kid` in the header. */
  sign(claims: Readonly<Record<string, unknown>>): Promise<string>;
  /** The published keys, signing key included. */
  publicKeys(): Promise<readonly PublicJwk[]>;
}

/**
 * A listing: one caller's leases (newest first), or with no caller every lease (an admin's view, in
 * no particular order); `kind` and `status` filter.
 */
export interface LeaseQuery {
  readonly caller?: string;
  readonly kind?: LeaseKind;
  readonly status?: LeaseStatus;
  readonly limit: number;
  readonly cursor?: Record<string, unknown>;
}

export interface LeasePage {
  readonly leases: Lease[];
  readonly next?: Record<string, unknown>;
}

/**
 * One page of one shard of the leases the scheduled jobs must see in a status (see `dueOf` in
 * shared/adapters/dynamo-lease-table.ts: every lease but an active credentials lease), oldest
 * expiry first, with `after <= expiresAt < before`.
 */
export interface DueQuery {
  readonly status: LeaseStatus;
  readonly shard: number;
  readonly before?: Date;
  readonly after?: Date;
  readonly limit: number;
  readonly cursor?: Record<string, unknown>;
}

/** Changes to a lease: a value sets the field, `null` removes it, undefined leaves it. */
export type LeaseChanges = { readonly [K in keyof Lease]?: Lease[K] | null };

/**
 * Extra conditions on an update, beyond the expected status: each named field must hold the given
 * value, or be absent when given `null`. Fails with ConflictError `lease_condition_failed`
 * (details.lease = the stored record) when one does not hold. Used to claim a lease for renewal
 * exactly once (`{ renewedBy: null }`).
 */
export type LeaseCondition = Partial<Record<'renewedBy', string | null>>;

/** Lease records. Writes are conditional: a lease moves only along the state machine. */
export interface LeaseStore {
  /** Writes a new lease (one conditional put); fails with ConflictError if the id exists. */
  create(lease: Lease): Promise<void>;
  get(leaseId: string): Promise<Lease | undefined>;
  /**
   * Applies `changes` only if the stored status is `expectedStatus`; returns the new record.
   * Fails with ConflictError when the lease is not in that status.
   */
  update(leaseId: string, expectedStatus: LeaseStatus, changes: LeaseChanges, condition?: LeaseCondition): Promise<Lease>;
  query(query: LeaseQuery): Promise<LeasePage>;
  /** How many shards `due` has: the jobs read shards 0 .. dueShards - 1. */
  readonly dueShards: number;
  due(query: DueQuery): Promise<LeasePage>;
  findByAccessKeyId(accessKeyId: string): Promise<Lease | undefined>;
  /** A scheduled job's saved state (e.g. where a pass stopped), or undefined. */
  loadJobState(job: string): Promise<Record<string, unknown> | undefined>;
  /** Saves (or, with undefined, clears) a job's state. */
  saveJobState(job: string, state: Record<string, unknown> | undefined): Promise<void>;
}

/** Verifies a bearer token and returns the identity it proves. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** Sortable, unique, 26 characters of [0-9A-Z] (a ULID). */
  next(): string;
}


/** What the broker needs to know about a CA before it asks it for a certificate. */
export interface CertificateAuthorityInfo {
  readonly caArn: string;
  /** PCA's status: only `ACTIVE` issues. */
  readonly status: string;
  /** When the CA's own certificate expires; certificates cannot outlive it. */
  readonly notAfter?: Date;
  /** The algorithm the CA signs with, e.g. `SHA256WITHECDSA` (fits its key). */
  readonly signingAlgorithm: string;
}

/** One certificate to issue. The names are the broker's decision, sent through APIPassthrough. */
export interface CertificateIssueRequest {
  readonly caArn: string;
  readonly csrPem: string;
  readonly templateArn: string;
  readonly signingAlgorithm: string;
  readonly notAfter: Date;
  readonly commonName?: string;
  readonly dns: readonly string[];
  readonly uris: readonly string[];
  readonly ips: readonly string[];
  /** The lease id: retries within PCA's five-minute window return the same certificate. */
  readonly idempotencyToken: string;
}

export type CertificateRetrieval =
  | { readonly status: 'issued'; readonly certificate: string; readonly certificateChain: string }
  | { readonly status: 'in-progress' };

/**
 * ACM Private CA (or another CA behind the same calls). Errors are domain errors: throttling ->
 * DependencyUnavailableError, a CSR the CA rejects -> ValidationError, ...
 */
export interface CertificateAuthority {
  describeCa(caArn: string): Promise<CertificateAuthorityInfo>;
  /** Starts issuance and returns the certificate's ARN; the certificate may not be ready yet. */
  issue(request: CertificateIssueRequest): Promise<{ readonly certificateArn: string }>;
  get(caArn: string, certificateArn: string): Promise<CertificateRetrieval>;
  /**
   * The CA's own certificate and the chain above it (PEM), for trust bundles: what an mTLS peer
   * must trust to accept this CA's certificates. Public, and safe to cache.
   */
  caCertificate(caArn: string): Promise<{ readonly certificate: string; readonly certificateChain: string }>;
  /** Revokes by serial (hex, colon-separated); revoking an already revoked certificate succeeds. */
  revoke(request: { readonly caArn: string; readonly certificateArn?: string; readonly serialNumber: string; readonly reason: RevocationReason }): Promise<void>;
}

/** How a credentials session was blocked (see SessionRevoker). */
export type SessionBlock =
  /** A deny on the role for this one session (`aws:userid` = ROLE_ID:leaseId). */
  | { readonly method: 'session-deny'; readonly policyName: string }
  /** The role's deny list was full: every session of the role issued before `issuedBefore` is denied. */
  | { readonly method: 'token-issue-time-cutoff'; readonly policyName: string; readonly issuedBefore: string };

/**
 * Blocks STS sessions that cannot be revoked, through a broker-managed inline policy on the role
 * they were issued for. Entries are kept until the sessions they block have expired.
 */
export interface SessionRevoker {
  /** Denies the session `roleSessionName` of `roleArn` until `expiresAt`. Idempotent. */
  block(request: { readonly roleArn: string; readonly roleSessionName: string; readonly issuedAt: Date; readonly expiresAt: Date; readonly now: Date }): Promise<SessionBlock>;
  /** Removes entries whose sessions have all expired by `now`; returns how many were removed. */
  prune(roleArn: string, now: Date): Promise<number>;
}

/** A fact other systems may react to, published on the event bus (`source` is always `nocreds`). */
export interface BrokerEvent {
  /** EventBridge detail-type, e.g. `nocreds.certificate.renewed`. */
  readonly type: string;
  readonly detail: Record<string, unknown>;
  readonly time?: Date;
  /** ARNs the event is about (e.g. the certificate's). */
  readonly resources?: readonly string[];
}

export interface EventPublisher {
  /** Publishes every event or fails (DependencyUnavailableError) naming how many were not accepted. */
  publish(events: readonly BrokerEvent[]): Promise<void>;
}

/** Where reports go: one object per key, overwritten if it exists. */
export interface ReportStore {
  put(key: string, body: string, contentType: string): Promise<{ readonly location: string }>;
}

/** One measurement, e.g. `{ name: 'LeasesStuckPending', value: 3, unit: 'Count' }`. */
export interface Metric {
  readonly name: string;
  readonly value: number;
  readonly unit: 'Count' | 'Seconds' | 'None';
}

export interface MetricPublisher {
  publish(namespace: string, metrics: readonly Metric[], dimensions?: Readonly<Record<string, string>>): void;
}
