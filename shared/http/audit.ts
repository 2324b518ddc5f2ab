import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { NocredsError } from '../domain/errors';
import type { Identity } from '../domain/identity';
import type { Lease } from '../domain/lease';
import { header, isV2, pathParam, requestIdOf, type HttpEvent, type HttpResult } from './event';
import { REQUEST_METRICS } from './request-metrics';

/** Sent by the client with a signed sts:GetCallerIdentity proof (shared/adapters/sts-caller-proof-verifier.ts). */
const PROOF_HEADER = 'x-nocreds-iam-proof';

/**
 * What a security team reads from the logs alone: one line per decision, success included, with
 * named fields and nothing secret. Only these fields are ever logged for a request:
 * - `requestId` (API Gateway's; Powertools adds `function_request_id`, Lambda's, and `cold_start`),
 *   `route`, `caller`, `authKind` (`sigv4`, `sts-proof`, `oidc`, `none`);
 * - `ruleId` (denials say `no rule` when none matched), `role` or `profile`, `leaseId`,
 *   `accessKeyId` and `serialNumber` (public identifiers: never the secret access key, the session
 *   token, the OIDC token, a CSR or a key), `reused` (a live session handed out again);
 * - `durationMs`, `outcome` (`allowed` | `denied` | `failed`), `status`, `code`, and for a failure
 *   the error (its message, code and stack).
 * A failed vend or issuance joins its lease record (`failed` or `pending`) through `requestId`.
 */
export interface DecisionFields {
  ruleId?: string;
  role?: string;
  profile?: string;
  leaseId?: string;
  accessKeyId?: string;
  serialNumber?: string;
}

export type Outcome = 'allowed' | 'denied' | 'failed';

/** What a route tells the decision record about its request (RouteInput.audit). */
export interface DecisionRecorder {
  /** What was asked for (a role, a profile) or decided, as soon as it is known, so a denial names it too. */
  note(fields: DecisionFields): void;
  /** A lease the request read or changed (GET, revoke): its id, rule, role or profile and public key id. */
  lease(lease: Lease): void;
  /** A credential or certificate the request hands out: counted in the metrics (vends, reuse, issuance). */
  issued(lease: Lease): void;
}

/** The observability the HTTP edge needs (shared/adapters/telemetry.ts implements it with Powertools). */
export interface RequestTelemetry {
  /** Middlewares that run outside the decision record: Lambda context on the logger, metric flushing, tracing. */
  readonly middlewares: readonly MiddlewareObj<HttpEvent, HttpResult>[];
  readonly logger: {
    info(message: string, fields: Record<string, unknown>): void;
    error(message: string, fields: Record<string, unknown>): void;
  };
  /** Adds 1 to `metric` in this invocation's metrics; with `dimensions`, also a separate series per value. */
  count(metric: string, dimensions?: Readonly<Record<string, string>>): void;
  /** X-Ray annotations of this invocation (nothing when tracing is off). */
  annotate(annotations: Readonly<Record<string, string>>): void;
}

class Decision implements DecisionRecorder {
  readonly fields: DecisionFields = {};
  delivered?: Lease;
  readonly started = performance.now();

  constructor(readonly requestId: string) {}

  note(fields: DecisionFields): void {
    for (const [key, value] of Object.entries(fields) as [keyof DecisionFields, string | undefined][]) {
      if (value !== undefined && value !== '') this.fields[key] = value;
    }
  }

  lease(lease: Lease): void {
    this.note({
      leaseId: lease.leaseId,
      ruleId: lease.ruleId,
      ...(lease.kind === 'credentials' ? { role: lease.roleArn, accessKeyId: lease.accessKeyId } : { profile: lease.profile, serialNumber: lease.serialNumber }),
    });
  }

  issued(lease: Lease): void {
    this.lease(lease);
    this.delivered = lease;
  }
}

export interface DecisionContext extends Context {
  decision?: Decision;
  caller?: Identity;
}

/** How the caller tried to prove who it is, in the authenticator's order; read before or after authentication. */
export function authKindOf(event: HttpEvent): 'sigv4' | 'sts-proof' | 'oidc' | 'none' {
  if (isV2(event)) {
    if ((event.requestContext as { authorizer?: { iam?: unknown } }).authorizer?.iam !== undefined) return 'sigv4';
  } else {
    const identity = (event as APIGatewayProxyEvent).requestContext?.identity as { userArn?: unknown; accessKey?: unknown } | undefined;
    if (identity && (identity.userArn != null || identity.accessKey != null)) return 'sigv4';
  }
  if (header(event, PROOF_HEADER) !== undefined) return 'sts-proof';
  if (header(event, 'authorization') !== undefined) return 'oidc';
  return 'none';
}

function routeOf(event: HttpEvent): string {
  if (isV2(event)) return event.routeKey ?? `${event.requestContext.http.method} ${event.rawPath}`;
  return `${event.httpMethod} ${event.resource ?? event.path}`;
}

function outcomeOf(status: number): Outcome {
  if (status >= 500) return 'failed';
  return status >= 400 ? 'denied' : 'allowed';
}

function codeOf(error: unknown): string {
  return error instanceof NocredsError ? error.code : 'internal_error';
}

function ruleOfError(error: unknown): string | undefined {
  const rule = error instanceof NocredsError ? error.details?.rule : undefined;
  return typeof rule === 'string' ? rule : undefined;
}

/**
 * The decision record: the outermost part of every route's chain after the telemetry middlewares,
 * so it sees the final answer (the error envelope's, for a rejection) and times the whole request.
 */
export function decisionRecord(telemetry: RequestTelemetry): MiddlewareObj<HttpEvent, HttpResult, Error, DecisionContext> {
  const record = (event: HttpEvent, context: DecisionContext, response: HttpResult | null | undefined, error: unknown) => {
    const decision = context.decision ?? new Decision(requestIdOf(event));
    const status = response?.statusCode ?? 500;
    const outcome = outcomeOf(status);
    const code = error === undefined ? undefined : codeOf(error);
    const leaseId = decision.fields.leaseId ?? pathParam(event, 'id');
    const ruleId = decision.fields.ruleId ?? ruleOfError(error) ?? (outcome === 'denied' ? 'no rule' : undefined);
    const reused = decision.delivered?.kind === 'credentials' ? decision.delivered.requestId !== decision.requestId : undefined;
    const fields: Record<string, unknown> = {
      requestId: decision.requestId,
      route: routeOf(event),
      ...(context.caller ? { caller: context.caller.caller } : {}),
      authKind: authKindOf(event),
      ...decision.fields,
      ...(ruleId ? { ruleId } : {}),
      ...(leaseId ? { leaseId } : {}),
      ...(reused === undefined ? {} : { reused }),
      durationMs: Math.round(performance.now() - decision.started),
      outcome,
      status,
      ...(code ? { code } : {}),
    };
    if (outcome === 'failed') telemetry.logger.error('request failed', { ...fields, error });
    else telemetry.logger.info(`request ${outcome}`, fields);

    if (outcome === 'allowed' && decision.delivered) {
      if (decision.delivered.kind === 'credentials') {
        telemetry.count(REQUEST_METRICS.vends);
        telemetry.count(reused ? REQUEST_METRICS.reuseHits : REQUEST_METRICS.reuseMisses);
      } else {
        telemetry.count(REQUEST_METRICS.certificatesIssued);
      }
    }
    if (outcome !== 'allowed') {
      telemetry.count(outcome === 'denied' ? REQUEST_METRICS.denials : REQUEST_METRICS.failures, { [REQUEST_METRICS.codeDimension]: code ?? `http_${status}` });
    }
    telemetry.annotate({ outcome, ...(ruleId ? { ruleId } : {}), ...(leaseId ? { leaseId } : {}), ...(code ? { code } : {}) });
  };
  return {
    name: 'decisionRecord',
    before: async (request) => {
      request.context.decision = new Decision(requestIdOf(request.event));
      // Authentication sets it again for this request; a context object reused across invocations must not carry the last caller.
      delete request.context.caller;
    },
    after: async (request) => record(request.event, request.context, request.response, undefined),
    onError: async (request) => record(request.event, request.context, request.response, request.error),
  };
}
