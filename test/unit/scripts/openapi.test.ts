import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { API_ROUTES } from '../../../infra/nocreds';
import { ROUTES, findRoute, onIamApi, routeKey } from '../../../shared/http/routes';
import { openApiText } from '../../../scripts/openapi/document';
import { importGraph } from '../../../scripts/openapi/error-codes';
import { OPENAPI_FILE, OpenApiAnswers } from '../../support/openapi-answers';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a parsed JSON document, read field by field

const committed = readFileSync(OPENAPI_FILE, 'utf8');
const document = JSON.parse(committed) as Json;

/** Validates a document as OpenAPI 3.1 with @seriousme/openapi-schema-validator (ESM only: run in its own node). */
function validateOpenApi(doc: unknown): { valid: boolean; version: string; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    console.log(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(doc), encoding: 'utf8', cwd: `${__dirname}/../../..` });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { valid: boolean; version: string; errors?: unknown };
}

describe('docs/openapi.json', () => {
  it('is what the code generates (else: run npm run openapi and commit docs/openapi.json)', () => {
    const generated = openApiText();
    if (generated !== committed) {
      throw new Error('docs/openapi.json differs from what the route table, the schemas and the error codes in the code generate: run npm run openapi and commit docs/openapi.json.');
    }
  }, 240_000);

  it('is a valid OpenAPI 3.1 document', () => {
    expect(validateOpenApi(document)).toEqual({ valid: true, version: '3.1' });
  });

  it('the validator refuses a broken document (the check above can fail)', () => {
    const broken = { ...document, paths: { '/v1/whoami': { get: { responses: { 200: { content: 'not a map' } } } } } };
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('has every route of the table, with its function, and no other', () => {
    const operations = Object.entries(document.paths as Json).flatMap(([path, methods]) => Object.entries(methods as Json).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op: op as Json })));
    expect(operations.map((o) => o.key).sort()).toEqual(ROUTES.map(routeKey).sort());
    for (const route of ROUTES) {
      const op = operations.find((o) => o.key === routeKey(route))?.op as Json;
      expect(op.operationId).toBe(route.id);
      expect(op['x-nocreds-function']).toBe(route.fn);
      expect(op.responses['500'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(['internal_error']);
    }
  });

  it('documents the security of each route: SigV4 only where the IAM API serves it; nothing on the public document', () => {
    expect(document.components.securitySchemes.sigv4['x-amazon-apigateway-authtype']).toBe('awsSigv4');
    expect(document.components.securitySchemes.oidcToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/v1/credentials/container'].get.security).toEqual([{ oidcToken: [] }, { callerProof: [] }]);
    expect(document.paths['/v1/credentials'].post.security).toEqual([{ oidcToken: [] }, { callerProof: [] }, { sigv4: [] }]);
    expect(document.paths['/v1/openapi.json'].get.security).toEqual([]);
  });

  it('lists error codes found in the code with the status of the one HTTP mapping', () => {
    const vend = document.paths['/v1/credentials'].post.responses;
    const codes = (status: string) => vend[status].content['application/json'].schema.properties.error.properties.code.enum as string[];
    expect(codes('403')).toEqual(expect.arrayContaining(['grant_denied', 'role_trust_denied']));
    expect(codes('400')).toEqual(expect.arrayContaining(['missing_field', 'unknown_field', 'duration_exceeds_grant', 'session_policy_widens_grant']));
    expect(codes('413')).toEqual(['body_too_large']);
    expect(codes('503')).toEqual(expect.arrayContaining(['sts_throttled', 'sts_unavailable', 'dynamodb_throttled', 'deadline_exceeded']));
    expect(vend['503'].headers['Retry-After']).toBeDefined();
    // A GET without a body cannot answer body errors.
    expect(document.paths['/v1/whoami'].get.responses['413']).toBeUndefined();
    // A route lists the codes of what it reaches: whoami calls no use case, so no CSR or lease codes.
    const whoami400 = document.paths['/v1/whoami'].get.responses['400'].content['application/json'].schema.properties.error.properties.code.enum as string[];
    expect(whoami400.filter((c) => c.startsWith('csr_') || c.includes('lease'))).toEqual([]);
    expect(document.paths['/v1/certificates'].post.responses['400'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['csr_not_pem', 'unknown_profile']));
  });

  it('is bundled only by the function that serves it', () => {
    const server = ROUTES.find((r) => r.id === 'openApiDocument')?.fn;
    const carriers = [...new Set(ROUTES.map((r) => r.fn))].filter((fn) => importGraph(fn).has('docs/openapi.json'));
    expect(carriers).toEqual([server]);
  });
});

describe('the route table', () => {
  it('is what infra builds both APIs from: every route on the token API, SigV4 ones on the IAM API', () => {
    expect(API_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual(ROUTES.map(routeKey));
    expect(API_ROUTES.filter((r) => !r.tokenOnly).map((r) => r.path)).toEqual(ROUTES.filter(onIamApi).map((r) => r.path));
  });

  it('is the README\'s "API v1" route list', () => {
    const readme = readFileSync(`${__dirname}/../../../README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## API v1'), readme.indexOf('\n## ', readme.indexOf('## API v1') + 1));
    const listed = [...section.matchAll(/^\| `(GET|POST) ([^`?]+)[^`]*`(?:, `(GET|POST) ([^`?]+)`)? \|/gm)].flatMap((m) => [`${m[1]} ${m[2]}`, ...(m[3] ? [`${m[3]} ${m[4]}`] : [])]);
    expect(listed.sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('is what the local server matches against, parameters included', () => {
    for (const route of ROUTES) {
      const found = findRoute(route.method, route.path.replace('{id}', '01JD5Y8W3J7B4ZQ6N0T2V9K1XH'));
      expect(found && 'route' in found ? found.route.id : undefined).toBe(route.id);
    }
    expect(findRoute('DELETE', '/v1/leases/x')).toEqual({ allowed: ['GET'] });
    expect(findRoute('GET', '/v1/nothing')).toBeUndefined();
  });
});

describe('checking answers against the document', () => {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const answer = (status: number, body: unknown, path = '/v1/whoami', method = 'GET') => ({ method, path, result: { statusCode: status, headers: json, body: JSON.stringify(body) } });
  const error = (code: string) => ({ error: { code, message: 'm', requestId: 'r' } });

  it('accepts a documented answer and counts it', () => {
    const answers = new OpenApiAnswers(document);
    expect(answers.check(answer(401, error('missing_credentials')))).toEqual([]);
    expect(answers.checked).toBe(1);
    expect(answers.failures).toEqual([]);
  });

  it('refuses an undocumented status, error code, field, media type or route', () => {
    const answers = new OpenApiAnswers(document);
    expect(answers.check(answer(418, error('teapot')))).toEqual(['status 418 is not documented for GET /v1/whoami']);
    expect(answers.check(answer(401, error('made_up_code')))[0]).toMatch(/made_up_code.*not one of the documented codes/);
    expect(answers.check(answer(403, error('missing_credentials'))).length).toBeGreaterThan(0);
    expect(answers.check(answer(200, { caller: 'c', kind: 'oidc', attributes: {}, admin: false, rules: [], secret: 'x' }))[0]).toMatch(/additional properties: "secret"/);
    expect(answers.check({ method: 'GET', path: '/v1/whoami', result: { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' } })[0]).toMatch(/content-type "text\/plain"/);
    expect(answers.check(answer(200, {}, '/v1/nowhere'))).toEqual(['no documented route GET /v1/nowhere']);
    expect(answers.failures).toHaveLength(6);
  });
});
