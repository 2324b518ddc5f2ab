import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { DependencyUnavailableError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../domain/errors';
import type { Identity } from '../domain/identity';
import { parseUntrustedJson } from '../domain/json-input';
import { telemetry as defaultTelemetry } from '../adapters/telemetry';
import { reportAnswer } from './answers';
import { decisionRecord, type DecisionContext, type DecisionRecorder, type RequestTelemetry } from './audit';
import type { Authenticator } from './authenticator';
import { errorResponse, isServerFault } from './errors';
import { header, requestIdOf, type HttpEvent, type HttpResult } from './event';

/** The most a request body may be. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * A request still running this close to the function's timeout is answered 503 (Retry-After),
 * not left to Lambda's timeout (a bare 500 from API Gateway) or to middy's own (a 500 here).
 * The SDK's per-call limits (shared/config.ts, AWS_CALL_LIMITS) normally answer long before.
 */
export const DEADLINE_RESERVE_MS = 1_000;
const DEADLINE_RETRY_AFTER_SECONDS = 5;

function deadlineExceeded(): never {
  throw new DependencyUnavailableError(
    'deadline_exceeded',
    `The broker could not finish before its deadline: a dependency (STS, DynamoDB, Private CA or an issuer) is slow. Retry after ${DEADLINE_RETRY_AFTER_SECONDS} s.`,
    DEADLINE_RETRY_AFTER_SECONDS,
  );
}

export interface RouteInput<B> {
  readonly event: HttpEvent;
  readonly identity: Identity;
  readonly body: B;
  readonly requestId: string;
  /** The request's decision record (one log line, metrics, trace annotations): tell it what was asked and given. */
  readonly audit: DecisionRecorder;
}

export interface RouteOptions<B> {
  readonly authenticator: Authenticator;
  /** Routes that take a JSON body name its schema; others get `undefined`. */
  readonly body?: z.ZodMiniType<B>;
  readonly maxBodyBytes?: number;
  /** Logger, metrics and tracing (shared/adapters/telemetry.ts unless a test gives its own). */
  readonly telemetry?: RequestTelemetry;
}

interface RouteContext extends Context, DecisionContext {
  caller?: Identity;
  parsedBody?: unknown;
}

type Request = middy.Request<HttpEvent, HttpResult, Error, RouteContext>;

/** Turns every error into the API's error body; internals are logged (by the decision record), never returned. */
function errorEnvelope(): MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext> {
  return {
    name: 'errorEnvelope',
    onError: async (request: Request) => {
      request.response = errorResponse(request.error, requestIdOf(request.event));
    },
  };
}

/** Hands the final answer (after the error envelope) to the answer observers (shared/http/answers.ts). */
function answerReport(): MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext> {
  return {
    name: 'answerReport',
    after: async (request: Request) => reportAnswer(request.event, request.response ?? undefined),
    onError: async (request: Request) => reportAnswer(request.event, request.response ?? undefined),
  };
}

function authenticate(authenticator: Authenticator): MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext> {
  return {
    name: 'authenticate',
    before: async (request: Request) => {
      request.context.caller = await authenticator.authenticate(request.event);
    },
  };
}

function rawBody(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Size, media type and size checks come before authentication: they are cheap and leak nothing. */
function bodyLimits(maxBytes: number): MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext> {
  return {
    name: 'bodyLimits',
    before: async (request: Request) => {
      const size = Buffer.byteLength(rawBody(request.event), 'utf8');
      if (size > maxBytes) throw new PayloadTooLargeError('body_too_large', `The request body is ${size} bytes; at most ${maxBytes} are accepted.`);
      const contentType = header(request.event, 'content-type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(contentType)) {
        throw new UnsupportedMediaTypeError('unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".');
      }
    },
  };
}

function jsonBody<B>(schema: z.ZodMiniType<B>): MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext> {
  return {
    name: 'jsonBody',
    before: async (request: Request) => {
      // Strict: no duplicate or prototype keys at any depth, bounded nesting (shared/domain/json-input.ts).
      const value = parseUntrustedJson(rawBody(request.event) || 'null');
      // reportInput: issues carry the offending value, so a wrong type is told apart from a missing field.
      const parsed = schema.safeParse(value, { reportInput: true });
      if (!parsed.success) throw validationErrorFrom(parsed.error);
      request.context.parsedBody = parsed.data;
    },
  };
}

export function validationErrorFrom(error: z.core.$ZodError): ValidationError {
  const issue = error.issues[0];
  if (!issue) return new ValidationError('invalid_request', 'The request is invalid.');
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    return new ValidationError('unknown_field', `Unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${path ? `${path}.` : ''}${k}"`).join(', ')}; see the API reference in the README.`, { details: { fields: keys } });
  }
  if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined && path) {
    return new ValidationError('missing_field', `The field "${path}" is required.`, { details: { field: path } });
  }
  if (!path) return new ValidationError('invalid_request', `The request body must be a JSON object: ${issue.message}.`);
  return new ValidationError('invalid_field', `The field "${path}" is invalid: ${issue.message}.`, { details: { field: path } });
}

/**
 * One HTTP route: telemetry (Lambda context on the logger, metrics, tracing), the decision record
 * (one audit line per request, shared/http/audit.ts), error envelope, body limits, authentication,
 * JSON body parsing and validation, then `handle`. `handle` maps the typed request onto a use case
 * and its result onto a response, and tells `audit` what was asked and given; nothing else.
 */
export function httpRoute<B = undefined>(options: RouteOptions<B>, handle: (input: RouteInput<B>) => Promise<HttpResult>) {
  const telemetry = options.telemetry ?? defaultTelemetry;
  const chain = middy<HttpEvent, HttpResult, Error, RouteContext>(
    async (event: HttpEvent, context: RouteContext) =>
      handle({ event, identity: context.caller as Identity, body: context.parsedBody as B, requestId: requestIdOf(event), audit: context.decision as DecisionRecorder }),
    { timeoutEarlyInMillis: DEADLINE_RESERVE_MS, timeoutEarlyResponse: deadlineExceeded },
  )
    // First in, so its after/onError run last: it sees what the error envelope made of an error.
    .use(answerReport());
  for (const middleware of telemetry.middlewares) chain.use(middleware as MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext>);
  chain.use(decisionRecord(telemetry)).use(errorEnvelope());
  if (options.body) chain.use(bodyLimits(options.maxBodyBytes ?? MAX_BODY_BYTES));
  chain.use(authenticate(options.authenticator));
  if (options.body) chain.use(jsonBody(options.body));
  return chain;
}

/**
 * A route anyone may call, without authentication or a body: only for answers that are the same
 * for every caller and secret to none (the API document). Same error envelope and answer report.
 */
export function publicRoute(handle: (input: { readonly event: HttpEvent; readonly requestId: string }) => Promise<HttpResult>, options: Pick<RouteOptions<undefined>, 'telemetry'> = {}) {
  const telemetry = options.telemetry ?? defaultTelemetry;
  return middy<HttpEvent, HttpResult, Error, RouteContext>(async (event: HttpEvent) => handle({ event, requestId: requestIdOf(event) }))
    .use(answerReport())
    .use({
      name: 'logServerFault',
      onError: async (request: Request) => {
        if (isServerFault(request.error)) telemetry.logger.error('request failed', { requestId: requestIdOf(request.event), error: request.error as Error });
      },
    })
    .use(errorEnvelope());
}
