// @ts-nocheck
// 
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { localBundleOptions } from '../../infra/broker-function';
import { createTableInput } from '../../shared/adapters/dynamo-lease-store';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoEndpoint, resetMoto } from './moto';

/**
 * The deployed code is a bundle, not the sources the other tests import: bundle the credentials
 * function with the options infra/ uses (ES module builds of the SDK first, minified) and vend
 * through it against moto, so a bundling setting that breaks the SDK or jose fails here.
 */
let issuer: DevIssuer;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  await resetMoto();
  issuer = await startDevIssuer();
  dir = mkdtempSync(join(tmpdir(), 'nocreds-bundle-'));
  await build(localBundleOptions(join(__dirname, '..', '..', 'functions', 'credentials', 'handler.ts'), join(dir, 'index.js')));
  writeFileSync(
    join(dir, 'grants.json'),
    JSON.stringify({
      version: 1,
      issuers: [{ id: 'dev', url: issuer.url, audiences: ['nocreds'], preset: 'kubernetes', allowInsecureLoopback: true }],
      rules: [{ id: 'apps', callers: [{ oidc: 'dev', claims: { namespace: 'team-*' } }], credentials: { roles: ['arn:aws:iam::123456789012:role/${namespace}-app'] } }],
    }),
  );
  await new DynamoDBClient(awsClientConfig()).send(new CreateTableCommand(createTableInput('bundled')));
  Object.assign(process.env, { LAMBDA_TASK_ROOT: dir, NOCREDS_TABLE_NAME: 'bundled', NOCREDS_AWS_ENDPOINT: motoEndpoint(), NOCREDS_SERVER_ID: 'bundle-test' });
});

afterAll(async () => {
  process.env = saved;
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the bundled credentials function vends against moto', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the built bundle is the point
  const { handler } = require(join(dir, 'index.js')) as { handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }> };
  const token = await issuer.mint({ sub: 'system:serviceaccount:team-a:app', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app' } } });
  const result = await handler(
    httpEvent({ method: 'POST', path: '/v1/credentials', headers: { authorization: `Bearer ${token}` }, body: { role: 'arn:aws:iam::123456789012:role/team-a-app' } }),
    lambdaContext,
  );
  expect(result.statusCode).toBe(201);
  expect(parse(result).assumedRoleArn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/team-a-app\//);

  const denied = await handler(
    httpEvent({ method: 'POST', path: '/v1/credentials', headers: { authorization: `Bearer ${token}` }, body: { role: 'arn:aws:iam::123456789012:role/team-b-app' } }),
    lambdaContext,
  );
  expect(denied.statusCode).toBe(403);
  expect(parse(denied).error.code).toBe('grant_denied');
});
