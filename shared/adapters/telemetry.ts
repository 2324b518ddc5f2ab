import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { tracingFrom } from '../config';
import type { RequestTelemetry } from '../http/audit';
import type { HttpEvent, HttpResult } from '../http/event';
import { REQUEST_METRICS, type Dependency } from '../http/request-metrics';
import { logger } from './logger';

/**
 * Powertools for AWS Lambda behind the HTTP edge's RequestTelemetry:
 * - Logger: `injectLambdaContext` adds `cold_start`, `function_request_id`, `function_name`, ... to
 *   every line of the invocation (the decision line included);
 * - Metrics: one embedded-metric-format line per invocation (REQUEST_METRICS), flushed after the
 *   decision is recorded, and Powertools' `ColdStart` metric once per instance;
 * - Tracer (X-Ray): only with NOCREDS_TRACING=true (the construct's `tracing` prop). It is not even
 *   in a function's bundle: infra puts it in a file of its own beside the bundle when tracing is on
 *   (TRACER_BUNDLE), loaded at init; a function without tracing never loads it
 *   (test/unit/shared/adapters/telemetry.test.ts). If it cannot be loaded, the function runs
 *   untraced and says so in a WARN line (observability never takes the broker down).
 *   Responses are never captured (they carry credentials); annotations are the decision's outcome,
 *   rule, lease id and error code.
 */
export const metrics = new Metrics({ namespace: REQUEST_METRICS.namespace, serviceName: REQUEST_METRICS.dimensions.service, logger });

type Middleware = MiddlewareObj<HttpEvent, HttpResult>;

/** Publishes this invocation's metrics, if any (Powertools' logMetrics would warn on every request that has none). */
const flushMetrics: Middleware = {
  name: 'flushMetrics',
  before: async (request) => {
    metrics.captureColdStartMetric((request.context as Context).functionName);
  },
  after: async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
  onError: async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
};

/** Clients to trace once the tracer has loaded (the first request waits for it). */
const tracedClients: object[] = [];
let tracer: Tracer | undefined;
let tracing: Promise<Middleware> | undefined;

/** The tracer's own bundle, beside the function's (infra/broker-function.ts writes it when tracing is on). */
export const TRACER_BUNDLE = 'powertools-tracer.js';

/** A specifier esbuild cannot follow, so the tracer stays out of the function's bundle. */
function tracerModule(): string {
  const bundled = join(__dirname, TRACER_BUNDLE);
  return existsSync(bundled) ? bundled : './powertools-tracer';
}

const noTracing: Middleware = { name: 'tracing' };

/** Starts loading the tracer (at init, when tracing is on); resolves to its middy middleware. */
function loadTracing(): Promise<Middleware> {
  tracing ??= (import(tracerModule()) as Promise<typeof import('./powertools-tracer')>).then(
    ({ Tracer, captureLambdaHandler }) => {
      tracer = new Tracer({ serviceName: REQUEST_METRICS.dimensions.service });
      for (const client of tracedClients.splice(0)) tracer.captureAWSv3Client(client);
      // Never the response: it carries the secret access key, the session token or a certificate.
      return captureLambdaHandler(tracer, { captureResponse: false }) as Middleware;
    },
    (error: unknown) => {
      logger.warn('tracing is on but the tracer could not be loaded; running untraced', { error: error as Error });
      return noTracing;
    },
  );
  return tracing;
}

/** The tracer's middleware, behind the lazy import: the first request waits for it to load. */
function lazyTracing(): Middleware {
  let inner: Middleware | undefined;
  return {
    name: 'tracing',
    before: async (request) => {
      inner ??= await loadTracing();
      return inner.before?.(request);
    },
    after: async (request) => inner?.after?.(request),
    onError: async (request) => inner?.onError?.(request),
  };
}

const tracingEnabled = tracingFrom();
if (tracingEnabled) void loadTracing();

export const telemetry: RequestTelemetry = {
  // logEvent false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event carries the OIDC token and the request body.
  middlewares: [injectLambdaContext(logger, { logEvent: false }) as Middleware, flushMetrics, ...(tracingEnabled ? [lazyTracing()] : [])],
  logger,
  count(metric, dimensions) {
    metrics.addMetric(metric, MetricUnit.Count, 1);
    if (dimensions && Object.keys(dimensions).length > 0) {
      const single = metrics.singleMetric();
      for (const [name, value] of Object.entries(dimensions)) single.addDimension(name, value);
      single.addMetric(metric, MetricUnit.Count, 1);
    }
  },
  annotate(annotations) {
    if (!tracer) return;
    for (const [key, value] of Object.entries(annotations)) tracer.putAnnotation(key, value);
  },
};

interface SdkClient {
  readonly middlewareStack: { add(middleware: unknown, options: { step: 'initialize'; name: string }): void };
}

/**
 * Times every call of an AWS SDK client, retries included (`StsLatency`, `PcaLatency`,
 * `DynamoDbLatency`, ...), and traces it when tracing is on. For the API functions' clients: their
 * metrics are flushed after each request.
 *
 * @example
 * const sts = observeClient(new STSClient(sdkClientConfig(config)), 'STS');
 */
export function observeClient<C extends SdkClient>(client: C, dependency: Dependency): C {
  const metric = REQUEST_METRICS.latency[dependency];
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        metrics.addMetric(metric, MetricUnit.Milliseconds, Math.round(performance.now() - started));
      }
    },
    { step: 'initialize', name: `nocreds${metric}` },
  );
  if (tracingEnabled) {
    if (tracer) tracer.captureAWSv3Client(client);
    else tracedClients.push(client);
  }
  return client;
}
