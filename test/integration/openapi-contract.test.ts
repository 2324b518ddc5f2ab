import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { openApiRoute, routeOf, whoamiRoute } from '../../functions/whoami/routes';
import { startLocalBroker, type LocalBroker } from '../../local/server';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { json, type HttpEvent } from '../../shared/http/event';
import { httpRoute } from '../../shared/http/route';
import { OPENAPI_FILE } from '../support/openapi-answers';
import { answerContract } from './answer-contract';

/**
 * The contract check itself (test/integration/answer-contract.ts): it sees the answers of routes
 * served through the local server, counts them, and catches an answer the document does not describe.
 */
let broker: LocalBroker;
const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as unknown;

beforeAll(async () => {
  const authenticator = new Authenticator({});
  const whoami = { whoami: whoamiRoute({ grants: parseGrantPolicy('version: 1\nrules: []\n'), authenticator }), openApiDocument: openApiRoute(document) };
  // A leases function that answers what the document does not allow: a list that is not a list.
  const wrongLeases = httpRoute({ authenticator: { authenticate: async () => ({}) } as unknown as Authenticator }, async () => json(200, { leases: 'not a list', scope: 'own' }));
  broker = await startLocalBroker({
    loader: async (fn) => {
      if (fn === 'whoami') return (async (event: HttpEvent, context: Context) => whoami[routeOf(event)](event, context)) as never;
      if (fn === 'leases') return wrongLeases as never;
      return undefined;
    },
  });
});
afterAll(() => broker?.stop());

describe('GET /v1/openapi.json', () => {
  it('serves the committed document to anyone, cacheable, and 304 when unchanged', async () => {
    const first = await fetch(`${broker.url}/v1/openapi.json`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await first.json()).toEqual(document);
    const etag = first.headers.get('etag') as string;
    const again = await fetch(`${broker.url}/v1/openapi.json`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('answers checked against docs/openapi.json', () => {
  it('counts every answer of a route (here, through the local server)', async () => {
    const before = answerContract.checked;
    const whoami = await fetch(`${broker.url}/v1/whoami`);
    expect(whoami.status).toBe(401);
    await fetch(`${broker.url}/v1/openapi.json`);
    expect(answerContract.checked).toBe(before + 2);
    expect(answerContract.checked).toBeGreaterThan(0);
  });

  it('catches an answer the document does not describe', async () => {
    const before = answerContract.failures.length;
    const answer = await fetch(`${broker.url}/v1/leases`);
    expect(answer.status).toBe(200);
    const caught = answerContract.failures.slice(before);
    expect(caught).toEqual([expect.stringMatching(/^GET \/v1\/leases -> 200: body\/leases must be array/)]);
    // Taken back, so this deliberate failure does not fail the test through the afterEach check.
    answerContract.failures.splice(before);
  });
});
