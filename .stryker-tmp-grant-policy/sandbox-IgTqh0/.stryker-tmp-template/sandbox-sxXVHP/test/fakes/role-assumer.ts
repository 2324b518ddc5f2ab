// @ts-nocheck
// 
import type { SessionRequest } from '../../shared/domain/session';
import type { AssumedSession, Clock, RoleAssumer } from '../../shared/ports';

/**
 * A RoleAssumer that records every SessionRequest it is given and answers with fake, well-formed
 * credentials (never valid anywhere): `ASIA...` access key ids numbered from 1, an expiry of
 * now + durationSeconds on the given clock, and the assumed-role ARN STS would return
 * (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`).
 *
 * Faults: `failNext(error)` makes the next call throw (after recording the request, like an STS
 * call that was made and refused); `failAlways(error)` until `clearFaults()`.
 *
 * @example
 *   const sts = new RecordingRoleAssumer(clock);
 *   await vendCredentials({ ...deps, roleAssumer: sts }, request);
 *   expect(sts.requests[0]?.roleSessionName).toBe(leaseId);
 */
export class RecordingRoleAssumer implements RoleAssumer {
  /** Every request received, in order, including those that were made to fail. */
  readonly requests: SessionRequest[] = [];
  /** Every session handed out. */
  readonly issued: AssumedSession[] = [];
  private faults: Array<{ error: unknown; remaining: number }> = [];

  constructor(
    private readonly clock: Clock = { now: () => new Date() },
    private readonly options: { packedPolicySize?: number } = {},
  ) {}

  get callCount(): number {
    return this.requests.length;
  }

  failNext(error: unknown, times = 1): this {
    this.faults.push({ error, remaining: times });
    return this;
  }

  failAlways(error: unknown): this {
    return this.failNext(error, Number.POSITIVE_INFINITY);
  }

  clearFaults(): void {
    this.faults = [];
  }

  async assumeRole(request: SessionRequest): Promise<AssumedSession> {
    this.requests.push(structuredClone(request));
    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      throw fault.error;
    }
    const n = this.issued.length + 1;
    const [, partition = 'aws', , , account = '000000000000', resource = 'role/unknown'] = request.roleArn.split(':');
    const roleName = resource.slice(resource.lastIndexOf('/') + 1);
    const session: AssumedSession = {
      accessKeyId: `ASIAFAKE${String(n).padStart(12, '0')}`,
      secretAccessKey: `fake-secret-${n}`,
      sessionToken: `fake-session-token-${n}`,
      expiration: new Date(this.clock.now().getTime() + request.durationSeconds * 1000),
      assumedRoleArn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${request.roleSessionName}`,
      assumedRoleId: `AROAFAKE${String(n).padStart(12, '0')}:${request.roleSessionName}`,
      ...(this.options.packedPolicySize === undefined ? {} : { packedPolicySize: this.options.packedPolicySize }),
    };
    this.issued.push(session);
    return session;
  }
}
