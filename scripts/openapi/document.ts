import * as z from 'zod/mini';
import { API_CONTRACT, type RouteContract } from '../../functions/api-contract';
import { leaseViewSchema } from '../../functions/leases/answers';
import { ROUTES, type RouteSpec } from '../../shared/http/routes';
import { version } from '../../package.json';
import { routeErrorCodes } from './error-codes';

/**
 * docs/openapi.json, built from the route table (shared/http/routes.ts), the route schemas
 * (functions/api-contract.ts) and the error codes found in the code (./error-codes.ts).
 * Deterministic: the same code gives the same bytes (test/unit/scripts/openapi.test.ts checks it).
 */

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'The request is invalid.',
  401: 'No identity could be established.',
  403: 'The caller (or the broker, at a dependency) is not allowed to do this.',
  404: 'Not found, or not the caller\'s to see.',
  409: 'The request conflicts with the lease\'s current state.',
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  429: 'Too many requests: retry after Retry-After seconds.',
  500: 'The broker failed; nothing about the cause is returned (it is logged).',
  503: 'A dependency (STS, Private CA, DynamoDB, an issuer) is throttling or unavailable: the broker fails closed. Retry after Retry-After seconds.',
};

function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as Json;
  return rest;
}

function errorBody(codes: readonly string[]): Json {
  return {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'requestId'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: codes, description: 'Machine-readable and stable.' },
          message: { type: 'string', description: 'What happened and what to do, for a person.' },
          requestId: { type: 'string' },
          details: { type: 'object', description: 'Facts about the refusal (a field, a rule), never secrets.' },
        },
      },
    },
    examples: [{ error: { code: codes[0], message: '...', requestId: 'c0ffee00-0000-4000-8000-000000000000' } }],
  };
}

function headerObjects(headers: Readonly<Record<string, string>> | undefined): Json | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
}

function security(route: RouteSpec): Json[] {
  const schemes: Json[] = [];
  if (route.auth.includes('oidc')) schemes.push({ oidcToken: [] }, { callerProof: [] });
  if (route.auth.includes('iam')) schemes.push({ sigv4: [] });
  return schemes;
}

function parameters(route: RouteSpec, contract: RouteContract): Json[] {
  const result: Json[] = [];
  for (const match of route.path.matchAll(/\{(\w+)\}/g)) {
    result.push({ name: match[1], in: 'path', required: true, description: 'The lease id.', schema: { type: 'string' } });
  }
  if (contract.query) {
    const schema = jsonSchema(contract.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      result.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
    }
  }
  for (const [name, [description, required]] of Object.entries(contract.queryParams ?? {})) {
    result.push({ name, in: 'query', required, description, schema: { type: 'string' } });
  }
  return result;
}

function operation(route: RouteSpec, contract: RouteContract, errors: Map<number, string[]>): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(contract.answers)) {
    const headers = headerObjects(answer.headers);
    responses[status] = {
      description: answer.description,
      ...(headers ? { headers } : {}),
      ...(answer.schema ? { content: { [answer.contentType ?? 'application/json']: { schema: jsonSchema(answer.schema, 'output') } } } : {}),
    };
  }
  for (const [status, codes] of errors) {
    const retry = status === 429 || status === 503;
    responses[String(status)] = {
      description: `${STATUS_TEXT[status] ?? 'Refused.'} Codes: ${codes.join(', ')}.`,
      headers: {
        ...(retry ? { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'string' } } } : {}),
        ...(status === 401 ? { 'WWW-Authenticate': { schema: { type: 'string' } } } : {}),
        'Cache-Control': { schema: { type: 'string', const: 'no-store' } },
      },
      content: { 'application/json': { schema: errorBody(codes) } },
    };
  }
  const params = parameters(route, contract);
  return {
    operationId: route.id,
    summary: route.summary,
    ...(contract.secret ? { description: 'The answer carries a secret: it is never cached (Cache-Control: no-store).' } : {}),
    'x-nocreds-function': route.fn,
    ...(route.auth.includes('iam') ? {} : { 'x-nocreds-token-api-only': true }),
    security: security(route),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(contract.body
      ? { requestBody: { required: !contract.bodyOptional, content: { 'application/json': { schema: jsonSchema(contract.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** Replaces every copy of `shared` inside `value` by a reference to it. */
function referTo(value: unknown, shared: Json, ref: string): unknown {
  if (Array.isArray(value)) return value.map((v) => referTo(v, shared, ref));
  if (value === null || typeof value !== 'object') return value;
  if (JSON.stringify(value) === JSON.stringify(shared)) return { $ref: ref };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, referTo(v, shared, ref)]));
}

export function buildOpenApiDocument(): Json {
  const contracts = API_CONTRACT as Record<string, RouteContract>;
  const errors = routeErrorCodes(
    ROUTES.map((route) => {
      const contract = contracts[route.id] as RouteContract;
      return { ...route, useCases: contract.useCases, hasBody: contract.body !== undefined, hasQuery: contract.query !== undefined || contract.queryParams !== undefined };
    }),
  );
  // Public routes declare theirs (api-contract.ts).
  for (const route of ROUTES as readonly RouteSpec[]) {
    const declared = contracts[route.id]?.errors;
    if (declared) errors.set(route.id, new Map(Object.entries(declared).map(([status, codes]) => [Number(status), [...codes].sort()])));
  }
  const paths: Record<string, Json> = {};
  for (const route of ROUTES as readonly RouteSpec[]) {
    paths[route.path] ??= {};
    (paths[route.path] as Json)[route.method.toLowerCase()] = operation(route, contracts[route.id] as RouteContract, errors.get(route.id) as Map<number, string[]>);
  }
  // The lease and the 401 answer appear on many routes: written once, referred to.
  const lease = jsonSchema(leaseViewSchema, 'output');
  const unauthenticated = Object.values(paths).flatMap((p) => Object.values(p as Record<string, Json>)).map((op) => (op.responses as Json)['401'])[0] as Json;
  const referred = referTo(referTo(paths, lease, '#/components/schemas/Lease'), unauthenticated, '#/components/responses/Unauthenticated') as Json;
  return {
    openapi: '3.1.0',
    info: {
      title: 'nocreds broker API',
      version,
      description:
        'Short-lived, scoped, recorded STS credentials and X.509 certificates for workloads that prove who they are. ' +
        'Generated from shared/http/routes.ts and functions/api-contract.ts by `npm run openapi`; error codes are collected from the code, and a route lists every code raised in the files its function bundles (it may name a code the route cannot reach, never miss one). ' +
        'API Gateway answers some requests itself with its own body {"message": ...}: 403 for a bad SigV4 signature (IAM API), 404 for an unknown route, 429 beyond the throttle, 413 beyond its payload limit; those are not listed per route.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      { url: 'https://{apiDomain}', description: 'The token API (stack output ApiUrl): OIDC tokens and GetCallerIdentity proofs.', variables: { apiDomain: { default: 'nocreds.example.org' } } },
      { url: 'https://{iamApiDomain}', description: 'The IAM API (stack output IamApiUrl): SigV4 only; routes marked x-nocreds-token-api-only are not on it.', variables: { iamApiDomain: { default: 'nocreds-iam.example.org' } } },
    ],
    paths: referred,
    components: {
      schemas: { Lease: lease },
      responses: { Unauthenticated: unauthenticated },
      securitySchemes: {
        oidcToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Token API: an OIDC token from an issuer the grant policy trusts, in Authorization, with or without "Bearer " (container credentials send it raw).' },
        callerProof: { type: 'apiKey', in: 'header', name: 'X-Nocreds-Iam-Proof', description: 'Token API: a signed sts:GetCallerIdentity request (base64 JSON), bound to this broker by X-Nocreds-Server-Id; the broker has STS verify it.' },
        sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4', description: 'IAM API: AWS Signature Version 4 (service execute-api), verified by API Gateway\'s IAM authorizer.' },
      },
    },
  };
}

/** The document as committed: two-space JSON and a final newline. */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
