import type { RequestTelemetry } from '../../../../shared/http/audit';

/**
 * The tracer is loaded only when tracing is on: a function without it never evaluates the
 * Powertools tracer or the X-Ray SDK (nothing added to its cold start). The tracer module is
 * replaced by a recorder here, so the test sees whether, and when, it is loaded.
 */
function loadTelemetry(tracing: string | undefined) {
  const loaded: string[] = [];
  const annotations: Record<string, unknown> = {};
  const captured: unknown[] = [];
  const handlerOptions: unknown[] = [];
  if (tracing === undefined) delete process.env.NOCREDS_TRACING;
  else process.env.NOCREDS_TRACING = tracing;
  let telemetry!: RequestTelemetry;
  let observeClient!: typeof import('../../../../shared/adapters/telemetry').observeClient;
  let metrics!: typeof import('../../../../shared/adapters/telemetry').metrics;
  jest.isolateModules(() => {
    jest.doMock('@aws-lambda-powertools/tracer', () => {
      loaded.push('tracer');
      return {
        Tracer: class {
          putAnnotation(key: string, value: unknown) {
            annotations[key] = value;
          }
          captureAWSv3Client(client: unknown) {
            captured.push(client);
            return client;
          }
        },
      };
    });
    jest.doMock('@aws-lambda-powertools/tracer/middleware', () => {
      loaded.push('tracer/middleware');
      return {
        captureLambdaHandler: (_tracer: unknown, options: unknown) => {
          handlerOptions.push(options);
          return { before: async () => undefined };
        },
      };
    });
    ({ telemetry, observeClient, metrics } = jest.requireActual('../../../../shared/adapters/telemetry') as typeof import('../../../../shared/adapters/telemetry'));
  });
  return { telemetry, observeClient, metrics, loaded, annotations, captured, handlerOptions };
}

const fakeClient = () => ({ middlewareStack: { add: jest.fn() } });

afterEach(() => {
  delete process.env.NOCREDS_TRACING;
  jest.dontMock('@aws-lambda-powertools/tracer');
  jest.dontMock('@aws-lambda-powertools/tracer/middleware');
});

test('without tracing, the tracer is never loaded and no tracing middleware runs', async () => {
  const { telemetry, observeClient, loaded, annotations } = loadTelemetry(undefined);
  observeClient(fakeClient(), 'STS');
  telemetry.annotate({ leaseId: '01ABC' });
  await new Promise((r) => setImmediate(r));
  expect(loaded).toEqual([]);
  expect(telemetry.middlewares.map((m) => m.name)).not.toContain('tracing');
  expect(annotations).toEqual({});
});

test('with NOCREDS_TRACING=true, the tracer loads at init, traces the SDK clients and never captures responses', async () => {
  const { telemetry, observeClient, loaded, annotations, captured, handlerOptions } = loadTelemetry('true');
  const client = observeClient(fakeClient(), 'DynamoDB');
  const tracing = telemetry.middlewares.find((m) => m.name === 'tracing');
  expect(tracing).toBeDefined();
  await tracing!.before!({} as never);
  expect(loaded.sort()).toEqual(['tracer', 'tracer/middleware']);
  expect(captured).toEqual([client]);
  expect(handlerOptions).toEqual([{ captureResponse: false }]);
  telemetry.annotate({ leaseId: '01ABC', ruleId: 'team-apps' });
  expect(annotations).toEqual({ leaseId: '01ABC', ruleId: 'team-apps' });
});

test('an invalid NOCREDS_TRACING fails the cold start', () => {
  expect(() => loadTelemetry('yes')).toThrow(/NOCREDS_TRACING must be "true" or "false"/);
});

test('every SDK call is timed as <Dependency>Latency in the invocation\'s metrics', async () => {
  const { observeClient, metrics } = loadTelemetry(undefined);
  const client = fakeClient();
  observeClient(client, 'PCA');
  const [middleware, options] = client.middlewareStack.add.mock.calls[0] as [(next: () => Promise<unknown>) => () => Promise<unknown>, { step: string }];
  expect(options.step).toBe('initialize');
  // Retries run inside `next`, so they are in the time; a failed call is timed too.
  await expect(middleware(() => Promise.reject(new Error('throttled')))()).rejects.toThrow('throttled');
  await expect(middleware(() => Promise.resolve('ok'))()).resolves.toBe('ok');
  const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: unknown[] }[] } };
  expect(emf._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'PcaLatency', Unit: 'Milliseconds' }]);
  expect(emf.PcaLatency).toEqual([expect.any(Number), expect.any(Number)]);
  metrics.clearMetrics();
});
