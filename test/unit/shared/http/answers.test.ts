import { ValidationError } from '../../../../shared/domain/errors';
import { observeAnswers, type RouteAnswer } from '../../../../shared/http/answers';
import type { Authenticator } from '../../../../shared/http/authenticator';
import { json } from '../../../../shared/http/event';
import { httpRoute, publicRoute } from '../../../../shared/http/route';
import { httpEvent, lambdaContext } from '../../../support/http-events';

const anyone = { authenticate: async () => ({ kind: 'oidc', caller: 'c' }) } as unknown as Authenticator;
const quiet = { middlewares: [], logger: { error: () => undefined, info: () => undefined }, count: () => undefined, annotate: () => undefined };

describe('answer observers', () => {
  const seen: RouteAnswer[] = [];
  let stop: () => void;
  beforeEach(() => {
    seen.length = 0;
    stop = observeAnswers((answer) => seen.push(answer));
  });
  afterEach(() => stop());

  it('see a route\'s answer with its request line', async () => {
    const route = httpRoute({ authenticator: anyone, telemetry: quiet }, async () => json(200, { ok: true }));
    await route(httpEvent({ method: 'GET', path: '/v1/whoami' }), lambdaContext);
    expect(seen).toEqual([{ method: 'GET', path: '/v1/whoami', result: expect.objectContaining({ statusCode: 200, body: '{"ok":true}' }) }]);
  });

  it('see an error as the caller gets it, after the error envelope', async () => {
    const route = httpRoute({ authenticator: anyone, telemetry: quiet }, async () => {
      throw new ValidationError('invalid_field', 'no');
    });
    const result = await route(httpEvent({ method: 'POST', path: '/v1/credentials', body: {} }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(seen.map((a) => [a.result.statusCode, JSON.parse(a.result.body).error.code])).toEqual([[400, 'invalid_field']]);
  });

  it('see a public route\'s answers too, and stop when told', async () => {
    const route = publicRoute(async () => json(200, {}), { telemetry: quiet });
    await route(httpEvent({ method: 'GET', path: '/v1/openapi.json' }), lambdaContext);
    stop();
    await route(httpEvent({ method: 'GET', path: '/v1/openapi.json' }), lambdaContext);
    expect(seen).toHaveLength(1);
  });
});
