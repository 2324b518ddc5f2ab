import type { Lease, LeaseStatus, LeaseKind } from '../domain/lease';
import type { SessionRequest } from '../domain/session';
import type { Identity } from '../domain/identity';

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

/** Lease records. Writes are conditional: a lease moves only along the state machine. */
export interface LeaseStore {
  /** Writes a new lease; fails with ConflictError if the id exists. */
  create(lease: Lease): Promise<void>;
  get(leaseId: string): Promise<Lease | undefined>;
  /**
   * Applies `changes` only if the stored status is `expectedStatus`; returns the new record.
   * Fails with ConflictError when the lease is not in that status.
   */
  update(leaseId: string, expectedStatus: LeaseStatus, changes: Partial<Lease>): Promise<Lease>;
  query(query: LeaseQuery): Promise<LeasePage>;
  /** Active or pending leases whose expiry is before `before`, oldest first. */
  dueBefore?(status: LeaseStatus, before: Date, limit: number, cursor?: Record<string, unknown>): Promise<LeasePage>;
  findByAccessKeyId?(accessKeyId: string): Promise<Lease | undefined>;
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

