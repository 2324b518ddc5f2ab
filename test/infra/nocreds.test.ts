import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { createTableInput } from '../../shared/adapters/dynamo-lease-store';
import { REQUEST_METRICS } from '../../shared/http/request-metrics';
import { METRIC_NAMESPACE } from '../../shared/use-cases/run-audit';
import { BROKER_FUNCTION_NAMES, entryOf, type BrokerFunctionName } from '../../infra/broker-function';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { LEASE_WRITE_FAILURE_MESSAGES } from '../../infra/monitoring';
import { API_ROUTES, DEFAULT_RESERVED_CONCURRENCY, Nocreds } from '../../infra/nocreds';
import {
  ACCOUNT,
  CA_ARN,
  CERTIFICATE_ARN,
  EXAMPLE_GRANTS,
  OTHER_ACCOUNT,
  SECOND_CA_ARN,
  actionsOf,
  cdkJsonContext,
  logicalId,
  statementsOf,
  synthBrokers,
  type BrokerStack,
  type Statement,
} from './broker-stacks';

// One synthesis for the whole file (bundling skipped: test/infra/bundles.test.ts builds the code).
const { minimal, full } = synthBrokers();
const STS = ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'];

function roleStatements(b: BrokerStack, name: keyof BrokerStack['broker']['functions']): Statement[] {
  return statementsOf(b.template, logicalId(b.stack, b.broker.functions[name].role));
}

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['minimal', minimal],
    ['full', full],
  ] as const)('reports no errors and no warnings on the %s broker', (_label, b) => {
    const annotations = Annotations.fromStack(b.stack);
    const findings = (kind: 'findError' | 'findWarning') =>
      annotations[kind]('*', Match.stringLikeRegexp('AwsSolutions-.*')).map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
    expect(findings('findError')).toEqual([]);
    expect(findings('findWarning')).toEqual([]);
  });
});

describe('lease table', () => {
  it('is on demand, point-in-time recoverable, TTL on `ttl`, deletion protected and encrypted', () => {
    minimal.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true },
    });
    minimal.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('has the keys and indexes the lease store queries (createTableInput)', () => {
    const expected = createTableInput('leases');
    const [table] = Object.values(minimal.template.findResources('AWS::DynamoDB::Table'));
    const props = table!.Properties;
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) => String(a.AttributeName).localeCompare(String(b.AttributeName));
    expect([...props.AttributeDefinitions].sort(byName)).toEqual([...(expected.AttributeDefinitions ?? [])].sort(byName));
    expect(props.KeySchema).toEqual(expected.KeySchema);
    const indexes = (list: readonly { IndexName?: string; KeySchema?: unknown; Projection?: unknown }[]) =>
      list.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })).sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)));
    expect(indexes(props.GlobalSecondaryIndexes)).toEqual(indexes(expected.GlobalSecondaryIndexes ?? []));
    // Lean and sparse: no index projects every attribute, and `due` (not a status) partitions the jobs' index.
    expect(props.GlobalSecondaryIndexes.map((i: { IndexName: string; Projection: unknown }) => [i.IndexName, i.Projection]).sort()).toEqual([
      ['byAccessKey', { ProjectionType: 'KEYS_ONLY' }],
      ['byCaller', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['kind', 'status'] }],
      ['due', { ProjectionType: 'KEYS_ONLY' }],
    ]);
    expect(JSON.stringify(props)).not.toContain('byStatus');
  });
});

describe('functions', () => {
  it('deploys every function on Node.js 22, arm64, with its own log group and the broker settings', () => {
    const functions = minimal.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(BROKER_FUNCTION_NAMES.length);
    for (const name of BROKER_FUNCTION_NAMES) {
      const fn = functions[logicalId(minimal.stack, minimal.broker.functions[name].function)]!.Properties;
      expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(fn.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(minimal.stack, minimal.broker.functions[name].logGroup) });
      expect(fn.Environment.Variables).toMatchObject({
        NOCREDS_TABLE_NAME: { Ref: logicalId(minimal.stack, minimal.broker.table) },
        NOCREDS_GRANT_POLICY_FILE: '/var/task/grants.json',
        NOCREDS_EVENT_BUS_NAME: { Ref: logicalId(minimal.stack, minimal.broker.eventBus) },
        NOCREDS_REVOCATION_ENABLED: 'false',
        NOCREDS_SERVER_ID: minimal.stack.resolve(minimal.broker.serverId),
        NOCREDS_LOG_LEVEL: 'INFO',
        NOCREDS_LEASE_RETENTION_DAYS: '90',
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect('NOCREDS_REPORT_BUCKET' in fn.Environment.Variables).toBe(name === 'audit');
      // The cursor key is never in the environment, not even as a deploy-time reference: only the
      // leases function gets the secret's ARN and reads the value at init.
      expect(JSON.stringify(fn.Environment.Variables)).not.toMatch(/resolve:secretsmanager|NOCREDS_CURSOR_KEY"/);
      if (name === 'leases') {
        expect(fn.Environment.Variables.NOCREDS_CURSOR_KEY_SECRET_ARN).toEqual({ Ref: logicalId(minimal.stack, minimal.broker.cursorKey) });
      } else {
        expect(fn.Environment.Variables.NOCREDS_CURSOR_KEY_SECRET_ARN).toBeUndefined();
      }
      expect(fn.Environment.Variables.NOCREDS_TRACING).toBeUndefined();
      // API functions must answer before API Gateway's 30 s integration timeout (the others are not behind it).
      if (!['renewal', 'audit', 'reconciler'].includes(name)) expect(fn.Timeout).toBeLessThan(30);
    }
    minimal.template.resourceCountIs('AWS::Logs::LogGroup', BROKER_FUNCTION_NAMES.length + 2);
    minimal.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('passes the configured settings through', () => {
    full.template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ NOCREDS_SERVER_ID: 'broker.example.org', NOCREDS_REVOCATION_ENABLED: 'true', NOCREDS_LOG_LEVEL: 'DEBUG' }) },
    });
  });
});

describe('HTTP APIs', () => {
  const routes = (b: BrokerStack, api: 'api' | 'iamApi') => {
    const apiId = logicalId(b.stack, b.broker[api]);
    return Object.values(b.template.findResources('AWS::ApiGatewayV2::Route'))
      .filter((r) => r.Properties.ApiId.Ref === apiId)
      .map((r) => ({ routeKey: r.Properties.RouteKey as string, auth: r.Properties.AuthorizationType as string }))
      .sort((a, b) => a.routeKey.localeCompare(b.routeKey));
  };

  it('serves every v1 route to token callers, verified in the function (no gateway authorizer)', () => {
    expect(routes(minimal, 'api')).toEqual(
      API_ROUTES.map((r) => ({ routeKey: `${r.method} ${r.path}`, auth: 'NONE' })).sort((a, b) => a.routeKey.localeCompare(b.routeKey)),
    );
  });

  it('serves the same routes to SigV4 callers with AWS_IAM on every route, except the container endpoint', () => {
    const iam = routes(minimal, 'iamApi');
    expect(iam.every((r) => r.auth === 'AWS_IAM')).toBe(true);
    expect(iam.map((r) => r.routeKey)).toEqual(
      API_ROUTES.filter((r) => !r.tokenOnly)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    expect(iam.map((r) => r.routeKey)).not.toContain('GET /v1/credentials/container');
  });

  it('throttles (by default sized for a mass pod restart, certificates at Private CA\'s rate) and writes JSON access logs without headers on both stages', () => {
    const stages = minimal.template.findResources('AWS::ApiGatewayV2::Stage');
    expect(Object.keys(stages)).toHaveLength(2);
    for (const stage of Object.values(stages)) {
      expect(stage.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
        RouteSettings: { 'POST /v1/certificates': { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 } },
      });
      // Route settings name routes: the stage must be created after them.
      expect(stage.DependsOn.length).toBeGreaterThanOrEqual(API_ROUTES.filter((r) => !r.tokenOnly).length);
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status', caller: '$context.identity.userArn' });
      expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/header|authorization/i);
    }
  });
});

describe('production props', () => {
  const fnProps = (b: BrokerStack, name: BrokerFunctionName) => b.template.findResources('AWS::Lambda::Function')[logicalId(b.stack, b.broker.functions[name].function)]!.Properties;
  const keyArn = () => ({ 'Fn::GetAtt': [logicalId(full.stack, full.broker.encryptionKey), 'Arn'] });

  it('takes the throttle and per-route throttles it is given, and refuses a route the API does not have', () => {
    for (const stage of Object.values(full.template.findResources('AWS::ApiGatewayV2::Stage'))) {
      expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 800, ThrottlingBurstLimit: 2000 });
      // The given map replaces the default one: certificates now follow the stage default.
      expect(stage.Properties.RouteSettings).toEqual({ 'POST /v1/credentials': { ThrottlingRateLimit: 400, ThrottlingBurstLimit: 1500 } });
    }
    const stack = new Stack(new App(), 'BadThrottle');
    expect(() => new Nocreds(stack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), routeThrottle: { 'POST /v1/credential': { rateLimit: 1 } } })).toThrow(
      'nocreds: routeThrottle names routes the API does not have: POST /v1/credential',
    );
  });

  it('reserves concurrency for every function by default, and takes overrides', () => {
    for (const name of BROKER_FUNCTION_NAMES) expect(fnProps(minimal, name).ReservedConcurrentExecutions).toBe(DEFAULT_RESERVED_CONCURRENCY[name]);
    expect(fnProps(full, 'credentials').ReservedConcurrentExecutions).toBe(200);
    expect(fnProps(full, 'whoami').ReservedConcurrentExecutions).toBe(DEFAULT_RESERVED_CONCURRENCY.whoami);
    expect(DEFAULT_RESERVED_CONCURRENCY).toMatchObject({ renewal: 1, audit: 1 });
  });

  it('keeps vending instances warm behind a `live` alias that both APIs invoke, only when asked', () => {
    minimal.template.resourceCountIs('AWS::Lambda::Alias', 0);
    full.template.resourceCountIs('AWS::Lambda::Alias', 1);
    full.template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionName: { Ref: logicalId(full.stack, full.broker.functions.credentials.function) },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 },
    });
    const alias = logicalId(full.stack, full.broker.functions.credentials.handler);
    const integrations = Object.values(full.template.findResources('AWS::ApiGatewayV2::Integration')).map((i) => JSON.stringify(i.Properties.IntegrationUri));
    const vendRoutes = API_ROUTES.filter((r) => r.fn === 'credentials');
    // One integration per route and API: the token API has both vend routes, the IAM API one.
    expect(integrations.filter((uri) => uri.includes(alias))).toHaveLength(vendRoutes.length + vendRoutes.filter((r) => !r.tokenOnly).length);
    expect(integrations.some((uri) => uri.includes(logicalId(full.stack, full.broker.functions.credentials.function)))).toBe(false);
  });

  it('turns on X-Ray active tracing only when asked', () => {
    for (const name of BROKER_FUNCTION_NAMES) {
      expect(fnProps(full, name).TracingConfig).toEqual({ Mode: 'Active' });
      expect(fnProps(minimal, name).TracingConfig).toBeUndefined();
      expect(actionsOf(roleStatements(full, name))).toEqual(expect.arrayContaining(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']));
      expect(actionsOf(roleStatements(minimal, name)).filter((a) => a.startsWith('xray:'))).toEqual([]);
      // The functions load the Powertools tracer only when told to (it adds nothing to cold start otherwise).
      expect(fnProps(full, name).Environment.Variables.NOCREDS_TRACING).toBe('true');
      expect(fnProps(minimal, name).Environment.Variables.NOCREDS_TRACING).toBeUndefined();
    }
  });

  it('keeps the cursor key in a generated Secrets Manager secret (on the customer-managed key when given) that only the leases function may read', () => {
    for (const b of [minimal, full]) {
      const secretId = logicalId(b.stack, b.broker.cursorKey);
      const secret = b.template.findResources('AWS::SecretsManager::Secret')[secretId]!.Properties;
      expect(secret.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
      expect(secret.SecretString).toBeUndefined();
      if (b === full) expect(secret.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(full.stack, full.broker.encryptionKey!), 'Arn'] });
      else expect(secret.KmsKeyId).toBeUndefined();
      for (const name of BROKER_FUNCTION_NAMES) {
        const reads = roleStatements(b, name).filter((st) => actionsOf([st]).includes('secretsmanager:GetSecretValue'));
        if (name === 'leases') expect(reads.map((st) => st.Resource)).toEqual([{ Ref: secretId }]);
        else expect(reads).toEqual([]);
      }
    }
    // With the key, reading the secret means decrypting with it (through Secrets Manager only).
    expect(actionsOf(roleStatements(full, 'leases'))).toContain('kms:Decrypt');
  });

  it('applies log retention and log level', () => {
    full.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    for (const name of BROKER_FUNCTION_NAMES) expect(fnProps(full, name).Environment.Variables.NOCREDS_LOG_LEVEL).toBe('DEBUG');
  });

  it('serves both APIs on their custom domain names with TLS 1.2, mapped at the root, and says where to point DNS', () => {
    minimal.template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    for (const [name, api] of [
      ['nocreds.example.org', full.broker.api],
      ['nocreds-iam.example.org', full.broker.iamApi],
    ] as const) {
      full.template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: name,
        DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' })],
      });
      const domain = Object.entries(full.template.findResources('AWS::ApiGatewayV2::DomainName')).find(([, d]) => d.Properties.DomainName === name)![0];
      const mappings = Object.values(full.template.findResources('AWS::ApiGatewayV2::ApiMapping')).filter((m) => m.Properties.DomainName.Ref === domain);
      expect(mappings.map((m) => ({ api: m.Properties.ApiId, stage: m.Properties.Stage, key: m.Properties.ApiMappingKey }))).toEqual([
        { api: { Ref: logicalId(full.stack, api) }, stage: '$default', key: undefined },
      ]);
    }
    const outputs = full.template.findOutputs('*');
    const output = (name: string) => Object.entries(outputs).find(([id]) => id.includes(name))![1];
    expect(output('BrokerApiUrl').Value).toBe('https://nocreds.example.org');
    expect(output('IamApiUrl').Value).toBe('https://nocreds-iam.example.org');
    expect(output('IamApiDomainTarget').Value).toEqual({ 'Fn::GetAtt': [expect.any(String), 'RegionalDomainName'] });
  });

  it('encrypts the table, report bucket, dead letters, secret, log groups, environments and topic with the given key', () => {
    full.template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() } });
    full.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() } }] },
    });
    full.template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn() });
    full.template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn() });
    full.template.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn() });
    full.template.allResourcesProperties('AWS::Lambda::Function', { KmsKeyArn: keyArn() });
    full.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn() });
    for (const kind of ['AWS::Logs::LogGroup', 'AWS::Lambda::Function', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret']) {
      expect(JSON.stringify(minimal.template.findResources(kind))).not.toMatch(/KmsKey|KmsMasterKeyId/);
    }
  });

  it("lets CloudWatch Logs (this account's log groups) and CloudWatch alarms use the key, and each function only what it needs", () => {
    const [key] = Object.values(full.template.findResources('AWS::KMS::Key'));
    const statements = key!.Properties.KeyPolicy.Statement as (Statement & { Principal: unknown; Sid?: string })[];
    expect(statements.find((s) => s.Sid === 'CloudWatchLogsOfThisAccount')).toMatchObject({
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:*` } },
    });
    expect(statements.find((s) => s.Sid === 'CloudWatchAlarmsToEncryptedTopic')).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] });
    const kmsActions = (name: BrokerFunctionName) => actionsOf(roleStatements(full, name).filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn()))).filter((a) => a.startsWith('kms:'));
    expect(kmsActions('whoami')).toEqual(['kms:Decrypt']); // its encrypted environment, nothing else
    // audit: read leases, write the encrypted report; the rest is the dead-letter destination's (as every scheduled function's).
    expect(kmsActions('audit')).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']));
    expect(kmsActions('credentials')).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']));
    for (const role of full.broker.scheduleRoles) {
      // Scheduler writes a failed run to the encrypted dead-letter queue.
      expect(actionsOf(statementsOf(full.template, logicalId(full.stack, role)))).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage']));
    }
  });

  it('grantInvoke allows execute-api:Invoke on exactly the IAM API routes; grantReadReports allows reading the reports', () => {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Grants', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const broker = new Nocreds(stack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    broker.grantInvoke(caller);
    broker.grantReadReports(caller);
    const template = Template.fromStack(stack);
    const statements = statementsOf(template, logicalId(stack, caller));
    const invoke = statements.find((s) => actionsOf([s]).includes('execute-api:Invoke'))!;
    const api = logicalId(stack, broker.iamApi);
    const rendered = (invoke.Resource as unknown[]).map((r) => JSON.stringify(r));
    const expected = API_ROUTES.filter((r) => !r.tokenOnly).map((r) => `/$default/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}`);
    expect(rendered).toHaveLength(new Set(expected).size);
    for (const path of expected) expect(rendered.some((r) => r.includes(`{"Ref":"${api}"}`) && r.endsWith(`"${path}"]]}`))).toBe(true);
    expect(rendered.join()).not.toContain(logicalId(stack, broker.api));
    const read = statements.find((s) => actionsOf([s]).includes('s3:GetObject*'))!;
    expect(JSON.stringify(read.Resource)).toContain('/audit/*');
    expect(actionsOf([read]).some((a) => /^s3:(Put|Delete)/.test(a))).toBe(false);
  });
});

describe('least privilege', () => {
  it('grants no Resource "*" anywhere, except the X-Ray actions tracing needs (X-Ray has no resource-level permissions)', () => {
    for (const b of [minimal, full]) {
      const all = Object.values(b.template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
      const star = all.filter((s) => s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*')));
      expect([...new Set(actionsOf(star))]).toEqual(b === full ? ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] : []);
    }
  });

  it('lets the credentials function assume only roles under the opt-in path, and call nothing but STS, its table and its logs', () => {
    const statements = roleStatements(minimal, 'credentials').filter((s) => s.Effect === 'Allow');
    expect(actionsOf(statements)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', ...STS].sort());
    const sts = statements.find((s) => actionsOf([s]).includes('sts:AssumeRole'))!;
    expect(actionsOf([sts])).toEqual(STS);
    expect(sts.Resource).toEqual(`arn:aws:iam::${ACCOUNT}:role/nocreds/*`);
    expect(sts.Condition).toBeUndefined();
  });

  it('uses the table and its named indexes only, with no delete or scan', () => {
    expect(actionsOf(roleStatements(minimal, 'leases')).filter((a) => a.startsWith('dynamodb:'))).toEqual(
      // Scan: only an admin's listing of every caller's leases; BatchGetItem: the items a keys-only index found.
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
    );
    const dynamo = roleStatements(minimal, 'credentials').find((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')))!;
    const table = logicalId(minimal.stack, minimal.broker.table);
    expect(dynamo.Resource).toEqual([
      { 'Fn::GetAtt': [table, 'Arn'] },
      // Sorted by name: @aws-cdk/aws-iam:minimizePolicies (cdk.json) orders a statement's resources.
      ...['byAccessKey', 'byCaller', 'due'].map((index) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, `/index/${index}`]] })),
    ]);
    expect(actionsOf(roleStatements(minimal, 'audit')).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('with tag opt-in, conditions STS on the role tag, in each opted-in account', () => {
    const tagged = { StringEquals: { 'aws:ResourceTag/nocreds:brokered': 'true' } };
    const roleArns = [ACCOUNT, OTHER_ACCOUNT].map((account) => `arn:aws:iam::${account}:role/*`);
    for (const name of ['credentials', 'leases'] as const) {
      const sts = roleStatements(full, name).find((s) => s.Effect === 'Allow' && actionsOf([s]).includes('sts:TagSession'))!;
      expect(sts).toMatchObject({ Resource: roleArns, Condition: tagged });
    }
  });

  it('with revocation, lets the lease, renewal and reconciler functions assume the revoker role of each opted-in account, and write no IAM policy themselves', () => {
    // The stack's region is known, so cdk.json's flags resolve the partition at synth.
    const revokers = [ACCOUNT, OTHER_ACCOUNT].map((account) => `arn:aws:iam::${account}:role/nocreds-revoker/nocreds-session-revoker`);
    for (const name of ['leases', 'renewal', 'reconciler'] as const) {
      const statements = roleStatements(full, name).filter((s) => s.Effect === 'Allow');
      expect(statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('iam:')))).toEqual([]);
      expect(statements.filter((s) => JSON.stringify(s.Resource).includes('nocreds-revoker'))).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: revokers }]);
    }
    for (const name of ['credentials', 'certificates', 'audit', 'whoami'] as const) {
      expect(JSON.stringify(roleStatements(full, name).filter((s) => s.Effect === 'Allow'))).not.toContain('nocreds-revoker');
    }
    const fn = Object.values(full.template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment.Variables.NOCREDS_REVOKER_ROLE_NAME).filter(Boolean);
    expect(fn).toEqual(['nocreds-revoker/nocreds-session-revoker', 'nocreds-revoker/nocreds-session-revoker', 'nocreds-revoker/nocreds-session-revoker']);
  });

  it("creates the account's revoker role once per stack with a BrokeredRole, trusting the lease, renewal and reconciler roles with sts:AssumeRole only", () => {
    expect(minimal.template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'nocreds-session-revoker' } })).toEqual({});
    const roles = Object.values(full.template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'nocreds-session-revoker' } }));
    expect(roles).toHaveLength(1);
    const revoker = roles[0]!.Properties;
    expect(revoker.Path).toBe('/nocreds-revoker/');
    // Not opted in: no opt-in tag, so the broker can never vend it.
    expect(JSON.stringify(revoker.Tags ?? [])).not.toContain('nocreds:brokered');
    // Its permissions name the opted-in roles of its own account only, though the broker's opt-in names two.
    const allows = statementsOf(full.template, logicalId(full.stack, full.stack.node.findChild('NocredsSessionRevoker'))).filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        // Sorted: @aws-cdk/aws-iam:minimizePolicies (cdk.json) orders a statement's actions.
        Action: ['iam:DeleteRolePolicy', 'iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:PutRolePolicy'],
        Resource: `arn:aws:iam::${ACCOUNT}:role/*`,
        Condition: { StringEquals: { 'aws:ResourceTag/nocreds:brokered': 'true' } },
      },
    ]);
    const trust = revoker.AssumeRolePolicyDocument.Statement as Statement[];
    // minimizePolicies (cdk.json) merges the principals into one statement, sorted by logical id.
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: (['leases', 'reconciler', 'renewal'] as const).map((name) => ({ 'Fn::GetAtt': [logicalId(full.stack, full.broker.functions[name].role), 'Arn'] })) },
      },
    ]);
  });

  it('grants iam:PutRolePolicy to no one unless revocation is enabled', () => {
    const allows = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');
    const all = Object.values(minimal.template.findResources('AWS::IAM::Policy')).flatMap((p) => actionsOf(allows(p.Properties.PolicyDocument.Statement)));
    expect(all.filter((a) => a.startsWith('iam:'))).toEqual([]);
  });

  it('allows PCA only on the CAs the grant policy names, and IssueCertificate only with its templates', () => {
    const pca = (b: BrokerStack, name: 'certificates' | 'leases' | 'renewal') => roleStatements(b, name).filter((s) => actionsOf([s]).some((a) => a.startsWith('acm-pca:')));
    expect(pca(minimal, 'certificates')).toEqual([
      { Effect: 'Allow', Action: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:GetCertificateAuthorityCertificate'], Resource: CA_ARN },
      {
        Effect: 'Allow',
        Action: 'acm-pca:IssueCertificate',
        Resource: CA_ARN,
        Condition: { StringEquals: { 'acm-pca:TemplateArn': ['arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1'] } },
      },
    ]);
    expect(actionsOf(pca(minimal, 'renewal'))).toEqual(actionsOf(pca(minimal, 'certificates')));
    expect(actionsOf(pca(minimal, 'leases'))).toEqual([...actionsOf(pca(minimal, 'certificates')), 'acm-pca:RevokeCertificate'].sort());
    expect(pca(full, 'certificates').every((s) => JSON.stringify(s.Resource) === JSON.stringify([CA_ARN, SECOND_CA_ARN]))).toBe(true);
    for (const b of [minimal, full]) {
      for (const name of ['credentials', 'whoami', 'audit'] as const) expect(actionsOf(roleStatements(b, name)).filter((a) => a.startsWith('acm-pca:'))).toEqual([]);
    }
  });

  it('gives whoami nothing but its logs, and audit only reads, its bucket and its bus', () => {
    expect(actionsOf(roleStatements(minimal, 'whoami'))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actionsOf(roleStatements(minimal, 'audit'))).toEqual(
      // sqs: Lambda's on-failure destination (the dead-letter queue) for the scheduled invocation.
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort(),
    );
    const put = roleStatements(minimal, 'audit').find((s) => actionsOf([s]).includes('events:PutEvents'))!;
    expect(put.Resource).toEqual({ 'Fn::GetAtt': [logicalId(minimal.stack, minimal.broker.eventBus), 'Arn'] });
  });

  it('attaches no managed policies to function roles', () => {
    for (const name of BROKER_FUNCTION_NAMES) {
      const role = minimal.template.findResources('AWS::IAM::Role')[logicalId(minimal.stack, minimal.broker.functions[name].role)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('scheduled jobs', () => {
  it('runs renewal every 5 minutes and audit daily, each with a retry policy and the dead-letter queue', () => {
    const queue = { 'Fn::GetAtt': [logicalId(minimal.stack, minimal.broker.deadLetterQueue), 'Arn'] };
    for (const [name, expression] of [
      ['renewal', 'rate(5 minutes)'],
      ['audit', 'cron(0 3 * * ? *)'],
    ] as const) {
      minimal.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(minimal.stack, minimal.broker.functions[name].function), 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 3 }),
          DeadLetterConfig: { Arn: queue },
        }),
      });
      minimal.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(minimal.stack, minimal.broker.functions[name].function) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: queue } },
      });
    }
  });

  it('keeps dead letters encrypted, TLS-only, for 14 days', () => {
    minimal.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    minimal.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('audit bucket', () => {
  it('blocks public access, encrypts, expires reports and refuses plain HTTP', () => {
    minimal.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 400, Status: 'Enabled' })]) },
    });
    minimal.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('logs object access to the given bucket when one is configured', () => {
    full.template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: 'example-access-logs' } });
  });
});

describe('events and secrets', () => {
  it('creates the broker\'s own event bus, which only the renewal and audit jobs may put to', () => {
    minimal.template.resourceCountIs('AWS::Events::EventBus', 1);
    const bus = logicalId(minimal.stack, minimal.broker.eventBus);
    const putters = BROKER_FUNCTION_NAMES.filter((name) => actionsOf(roleStatements(minimal, name)).includes('events:PutEvents'));
    expect(putters).toEqual(['renewal', 'audit']);
    for (const name of putters) {
      expect(roleStatements(minimal, name).find((s) => actionsOf([s]).includes('events:PutEvents'))!.Resource).toEqual({ 'Fn::GetAtt': [bus, 'Arn'] });
    }
  });

  it('generates the cursor key in Secrets Manager (64 letters and digits: 48 bytes once decoded) and keeps it', () => {
    minimal.template.hasResource('AWS::SecretsManager::Secret', {
      Properties: { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('alarms and dashboard', () => {
  const alarmsOf = (b: BrokerStack) => Object.values(b.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const byName = (b: BrokerStack, id: string) => {
    const found = alarmsOf(b).filter((a) => String(a.AlarmDescription).startsWith(`nocreds ${id}:`));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const metricIds = (alarm: Record<string, unknown>) => JSON.stringify(alarm.Metrics ?? []);

  it('alarms on rates over 3 of 5 five-minute periods where there is a denominator: function errors and throttles, API 5xx', () => {
    for (const name of ['credentials', 'whoami', 'certificates', 'leases', 'renewal']) {
      const alarm = byName(minimal, `${name}ErrorRate`);
      expect(alarm).toMatchObject({ Threshold: 5, EvaluationPeriods: 5, DatapointsToAlarm: 3, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      expect(metricIds(alarm)).toContain('IF(invocations > 0, 100 * errors / invocations, 0)');
      expect(metricIds(alarm)).toContain('"MetricName":"Errors"');
      expect(metricIds(alarm)).toContain('"MetricName":"Invocations"');
    }
    for (const name of ['credentials', 'whoami', 'certificates', 'leases']) {
      expect(byName(minimal, `${name}Throttles`)).toMatchObject({ Threshold: 1, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    }
    for (const api of ['api', 'iamApi']) {
      const alarm = byName(minimal, `${api}ServerErrorRate`);
      expect(alarm).toMatchObject({ Threshold: 1, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
      expect(metricIds(alarm)).toContain('100 * errors / requests');
      expect(metricIds(alarm)).toContain('"MetricName":"5xx"');
      expect(metricIds(alarm)).toContain('"MetricName":"Count"');
    }
  });

  it('alarms on STS and Private CA throttling and failures, lease-write failures, dead letters and audit findings', () => {
    const single = (id: string) => byName(minimal, id);
    expect(single('StsThrottled')).toMatchObject({ Namespace: METRIC_NAMESPACE, MetricName: 'StsThrottled', Threshold: 10, DatapointsToAlarm: 3, EvaluationPeriods: 5 });
    expect(single('StsFailures')).toMatchObject({ MetricName: 'StsFailures', Threshold: 5, DatapointsToAlarm: 3 });
    expect(single('PcaThrottled')).toMatchObject({ MetricName: 'PcaThrottled', Threshold: 5, DatapointsToAlarm: 3 });
    expect(single('PcaFailures')).toMatchObject({ MetricName: 'PcaFailures', Threshold: 1, DatapointsToAlarm: 3 });
    expect(single('LeaseWriteFailures')).toMatchObject({ MetricName: 'LeaseWriteFailures', Threshold: 1, DatapointsToAlarm: 2, EvaluationPeriods: 3 });
    expect(single('DeadLetters')).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, EvaluationPeriods: 1 });
    // The audit job publishes once a day with the dimension Job=audit (shared/use-cases/run-audit.ts).
    for (const finding of ['LeasesStuckPending', 'LeasesNoLongerAllowed', 'CertificatesExpiringSoon']) {
      expect(single(finding)).toMatchObject({ Namespace: METRIC_NAMESPACE, MetricName: finding, Dimensions: [{ Name: 'Job', Value: 'audit' }], Period: 86400, Threshold: 1 });
    }
    // The last 1: the reconciler's dead-letter queue (test/infra/reconciler.test.ts).
    expect(alarmsOf(minimal)).toHaveLength(5 + 4 + 2 + 4 + 1 + 3 + 1 + 1);
  });

  it('gives every alarm a runbook line: what it means and the first thing to check', () => {
    for (const alarm of alarmsOf(minimal)) expect(alarm.AlarmDescription).toMatch(/^nocreds \w+: .{40,} First check: .{20,}$/);
  });

  it('notifies a topic on ALARM and on OK from every alarm: the one created by default, or the one given, with email subscriptions', () => {
    const created = logicalId(minimal.stack, minimal.broker.alarmTopic);
    minimal.template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'nocreds alarms' });
    for (const alarm of alarmsOf(minimal)) {
      expect(alarm.AlarmActions).toEqual([{ Ref: created }]);
      expect(alarm.OKActions).toEqual([{ Ref: created }]);
    }
    const given = logicalId(full.stack, full.broker.alarmTopic);
    expect(given).toMatch(/^Alarms/);
    full.template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of alarmsOf(full)) expect([alarm.AlarmActions, alarm.OKActions]).toEqual([[{ Ref: given }], [{ Ref: given }]]);
    full.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', TopicArn: { Ref: given } });
    minimal.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('counts STS failures from the error codes the functions log', () => {
    minimal.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.code = "sts_throttled") || ($.error.code = "sts_throttled") }',
      LogGroupName: { Ref: logicalId(minimal.stack, minimal.broker.functions.credentials.logGroup) },
      MetricTransformations: [{ MetricNamespace: 'nocreds', MetricName: 'StsThrottled', MetricValue: '1' }],
    });
  });

  it('counts lease-write failures by the message the handlers log, which they still log', () => {
    const sources = BROKER_FUNCTION_NAMES.map((name) => readFileSync(entryOf(name), 'utf8')).join('\n');
    for (const message of LEASE_WRITE_FAILURE_MESSAGES) expect(sources).toContain(`'${message}'`);
    minimal.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: Match.stringLikeRegexp('\\$\\.message = "lease left pending after a failure"'),
      LogGroupName: { Ref: logicalId(minimal.stack, minimal.broker.functions.credentials.logGroup) },
      MetricTransformations: [Match.objectLike({ MetricName: 'LeaseWriteFailures' })],
    });
  });

  it('charts the metrics the API functions publish: vends, denials (by code), reuse rate, latency p50/p99 per dependency, cold starts', () => {
    minimal.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(minimal.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.parse(minimal.stack.resolve(dashboard!.Properties.DashboardBody)['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
      widgets: { properties: { title: string; metrics?: unknown[][] } }[];
    };
    const widget = (title: string) => {
      const found = body.widgets.find((w) => w.properties.title === title);
      if (!found) throw new Error(`no widget "${title}"; have: ${body.widgets.map((w) => w.properties.title).join(', ')}`);
      return JSON.stringify(found.properties.metrics);
    };
    // The names and dimension the functions publish with (shared/http/request-metrics.ts), not copies.
    const series = (name: string) => JSON.stringify(['nocreds', name, 'service', 'nocreds']).slice(1, -1);
    for (const name of [REQUEST_METRICS.vends, REQUEST_METRICS.denials, REQUEST_METRICS.certificatesIssued]) expect(widget('Vends, denials, certificates issued')).toContain(series(name));
    const reuse = widget('Session reuse rate (%)');
    expect(reuse).toContain('IF(hits + misses > 0, 100 * hits / (hits + misses), 0)');
    for (const name of [REQUEST_METRICS.reuseHits, REQUEST_METRICS.reuseMisses]) expect(reuse).toContain(series(name));
    const latency = widget('AWS call latency p50 / p99 (ms, retries included)');
    for (const name of ['StsLatency', 'PcaLatency', 'DynamoDbLatency']) {
      for (const stat of ['p50', 'p99']) expect(latency).toMatch(new RegExp(`"${name}","service","nocreds",\\{[^}]*"stat":"${stat}"`));
    }
    expect(widget('Denials by code')).toContain(`SEARCH('{nocreds,Code,service} MetricName=\\"Denials\\"', 'Sum', 300)`);
    expect(widget('Failures by code')).toContain(`MetricName=\\"Failures\\"`);
    expect(widget('Cold starts')).toContain(`SEARCH('{nocreds,function_name,service} MetricName=\\"ColdStart\\"', 'Sum', 300)`);
    for (const title of ['Function duration p50', 'Function duration p99', 'API latency p50 / p99', 'Audit (daily)', 'Alarms']) widget(title);
    // Vends are counted once, by the functions: no access-log metric filter duplicates them any more.
    const filtered = Object.values(minimal.template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties.MetricTransformations[0].MetricName);
    expect(filtered).not.toContain('Vends');
    expect(filtered).not.toContain('VendDenials');
  });
});

describe('outputs', () => {
  it('tells the deployer both API URLs, the server id and the roles a brokered role must trust', () => {
    const outputs = Object.keys(minimal.template.findOutputs('*'));
    for (const name of ['ApiUrl', 'IamApiUrl', 'ServerId', 'VendingRoleArns', 'LeaseTableName', 'AuditBucketName', 'EventBusName', 'DashboardName']) {
      expect(outputs.some((o) => o.includes(name))).toBe(true);
    }
  });
});

describe('brokered role', () => {
  it('trusts both vending roles with AssumeRole, TagSession and SetSourceIdentity in one statement, under the opt-in path', () => {
    const roles = minimal.template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'ci-deployer' } });
    const [role] = Object.values(roles);
    expect(role!.Properties.Path).toBe('/nocreds/');
    const statements = role!.Properties.AssumeRolePolicyDocument.Statement as Statement[];
    expect(statements.map((s) => ({ ...s, Action: actionsOf([s]) }))).toEqual([
      {
        Effect: 'Allow',
        Action: STS,
        Principal: {
          AWS: ['credentials', 'leases'].map((name) => ({ 'Fn::GetAtt': [logicalId(minimal.stack, minimal.broker.functions[name as 'credentials'].role), 'Arn'] })),
        },
      },
    ]);
  });
});
