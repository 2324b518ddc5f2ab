import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { createTableInput } from '../../shared/adapters/dynamo-lease-store';
import { METRIC_NAMESPACE } from '../../shared/use-cases/run-audit';
import { BROKER_FUNCTION_NAMES } from '../../infra/broker-function';
import { API_ROUTES } from '../../infra/nocreds';
import { ACCOUNT, CA_ARN, OTHER_ACCOUNT, SECOND_CA_ARN, actionsOf, logicalId, statementsOf, synthBrokers, type BrokerStack, type Statement } from './broker-stacks';

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
    const byName = (a: { AttributeName: string }, b: { AttributeName: string }) => a.AttributeName.localeCompare(b.AttributeName);
    expect([...props.AttributeDefinitions].sort(byName)).toEqual([...expected.AttributeDefinitions].sort(byName));
    expect(props.KeySchema).toEqual(expected.KeySchema);
    const indexes = (list: { IndexName: string; KeySchema: unknown; Projection: unknown }[]) =>
      list.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })).sort((a, b) => a.IndexName.localeCompare(b.IndexName));
    expect(indexes(props.GlobalSecondaryIndexes)).toEqual(indexes(expected.GlobalSecondaryIndexes));
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
        NOCREDS_SERVER_ID: minimal.broker.serverId,
        NOCREDS_LOG_LEVEL: 'INFO',
        NOCREDS_LEASE_RETENTION_DAYS: '90',
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect('NOCREDS_REPORT_BUCKET' in fn.Environment.Variables).toBe(name === 'audit');
      // The cursor key is resolved from Secrets Manager at deploy, never written into the template.
      if (['leases', 'renewal', 'audit'].includes(name)) {
        expect(JSON.stringify(fn.Environment.Variables.NOCREDS_CURSOR_KEY)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"\w+"\},":SecretString:::\}\}"\]\]\}$/);
      } else {
        expect(fn.Environment.Variables.NOCREDS_CURSOR_KEY).toBeUndefined();
      }
      // API functions must answer before API Gateway's 30 s integration timeout.
      if (!['renewal', 'audit'].includes(name)) expect(fn.Timeout).toBeLessThan(30);
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

  it('throttles and writes JSON access logs without headers on both stages', () => {
    const stages = minimal.template.findResources('AWS::ApiGatewayV2::Stage');
    expect(Object.keys(stages)).toHaveLength(2);
    for (const stage of Object.values(stages)) {
      expect(stage.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status', caller: '$context.identity.userArn' });
      expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/header|authorization/i);
    }
  });
});

describe('least privilege', () => {
  it('grants no Resource "*" anywhere', () => {
    for (const b of [minimal, full]) {
      const all = Object.values(b.template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
      expect(all.filter((s) => s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*')))).toEqual([]);
    }
  });

  it('lets the credentials function assume only roles under the opt-in path, and call nothing but STS, its table and its logs', () => {
    const statements = roleStatements(minimal, 'credentials').filter((s) => s.Effect === 'Allow');
    expect(actionsOf(statements)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', ...STS].sort());
    const sts = statements.find((s) => actionsOf([s]).includes('sts:AssumeRole'))!;
    expect(actionsOf([sts])).toEqual(STS);
    expect(sts.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:role/nocreds/*`]] });
    expect(sts.Condition).toBeUndefined();
  });

  it('uses the table and its named indexes only, with no delete or scan', () => {
    const dynamo = roleStatements(minimal, 'credentials').find((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')))!;
    const table = logicalId(minimal.stack, minimal.broker.table);
    expect(dynamo.Resource).toEqual([
      { 'Fn::GetAtt': [table, 'Arn'] },
      ...['byCaller', 'byStatus', 'byAccessKey'].map((index) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, `/index/${index}`]] })),
    ]);
    expect(actionsOf(roleStatements(minimal, 'audit')).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('with tag opt-in, conditions STS (and revocation IAM) on the role tag, in each opted-in account', () => {
    const tagged = { StringEquals: { 'aws:ResourceTag/nocreds:brokered': 'true' } };
    const roleArns = [ACCOUNT, OTHER_ACCOUNT].map((account) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:role/*`]] }));
    for (const name of ['credentials', 'leases'] as const) {
      const sts = roleStatements(full, name).find((s) => s.Effect === 'Allow' && actionsOf([s]).includes('sts:AssumeRole'))!;
      expect(sts).toMatchObject({ Resource: roleArns, Condition: tagged });
    }
    for (const name of ['leases', 'renewal'] as const) {
      const iam = roleStatements(full, name).find((s) => actionsOf([s]).includes('iam:PutRolePolicy'))!;
      expect(actionsOf([iam])).toEqual(['iam:DeleteRolePolicy', 'iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:PutRolePolicy']);
      expect(iam).toMatchObject({ Resource: roleArns, Condition: tagged });
    }
  });

  it('grants iam:PutRolePolicy to no one unless revocation is enabled', () => {
    const allows = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');
    const all = Object.values(minimal.template.findResources('AWS::IAM::Policy')).flatMap((p) => actionsOf(allows(p.Properties.PolicyDocument.Statement)));
    expect(all.filter((a) => a.startsWith('iam:'))).toEqual([]);
  });

  it('allows PCA only on the CAs the grant policy names, and IssueCertificate only with its templates', () => {
    const pca = (b: BrokerStack, name: 'certificates' | 'leases' | 'renewal') => roleStatements(b, name).filter((s) => actionsOf([s]).some((a) => a.startsWith('acm-pca:')));
    expect(pca(minimal, 'certificates')).toEqual([
      { Effect: 'Allow', Action: ['acm-pca:GetCertificate', 'acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificateAuthorityCertificate'], Resource: CA_ARN },
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
      ['dynamodb:GetItem', 'dynamodb:Query', 'events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:PutObject', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort(),
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
  it('alarms on function errors and throttles, STS and PCA failures, stuck leases, dead letters and API 5xx', () => {
    const alarms = Object.values(minimal.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const metricNames = alarms.map((a) => `${a.Namespace}/${a.MetricName}`);
    expect(metricNames.filter((m) => m === 'AWS/Lambda/Errors')).toHaveLength(BROKER_FUNCTION_NAMES.length);
    expect(metricNames.filter((m) => m === 'AWS/Lambda/Throttles')).toHaveLength(BROKER_FUNCTION_NAMES.length);
    expect(metricNames).toEqual(expect.arrayContaining(['nocreds/StsFailures', 'nocreds/PcaFailures', 'nocreds/LeasesStuckPending', 'AWS/SQS/ApproximateNumberOfMessagesVisible', 'AWS/ApiGateway/5xx']));
    // The audit job publishes its findings with the dimension Job=audit (shared/use-cases/run-audit.ts).
    expect(alarms.find((a) => a.MetricName === 'LeasesStuckPending')).toMatchObject({ Namespace: METRIC_NAMESPACE, Dimensions: [{ Name: 'Job', Value: 'audit' }] });
    expect(alarms.every((a) => a.TreatMissingData === 'notBreaching' && a.Threshold === 1)).toBe(true);
    minimal.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('counts STS failures from the error codes the functions log', () => {
    minimal.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.code = "sts_*") || ($.error.code = "sts_*") || ($.code = "role_trust_denied") || ($.error.code = "role_trust_denied") }',
      LogGroupName: { Ref: logicalId(minimal.stack, minimal.broker.functions.credentials.logGroup) },
      MetricTransformations: [{ MetricNamespace: 'nocreds', MetricName: 'StsFailures', MetricValue: '1' }],
    });
  });

  it('notifies the alarm topic when one is given', () => {
    const alarms = Object.values(full.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.every((a) => JSON.stringify(a.Properties.AlarmActions ?? []).includes('Alarms'))).toBe(true);
    expect(Object.values(minimal.template.findResources('AWS::CloudWatch::Alarm')).every((a) => a.Properties.AlarmActions === undefined)).toBe(true);
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
