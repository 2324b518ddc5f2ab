import { CfnOutput, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../shared/adapters/dynamo-lease-store';
import { assertEntriesExist, BROKER_FUNCTION_NAMES, BrokerFunction, type BrokerFunctionName } from './broker-function';
import { VENDING_ACTIONS, type BrokeredRoleOptIn, type IBroker } from './brokered-role';

/** What revoking a credentials lease needs on the session's role (see shared/adapters/iam-session-revoker.ts). */
const REVOCATION_ACTIONS = ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'] as const;
import { stageGrantPolicy, type StagedGrantPolicy } from './grant-policy-asset';
import { NocredsMonitoring } from './monitoring';
import { suppressNagFindings } from './nag-suppressions';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface NocredsProps {
  /**
   * The grant policy file (YAML or JSON): who may get which roles and certificates, and which
   * OIDC issuers are trusted (its `issuers`). Validated at synth time with the functions' own
   * parser: a bad policy fails `cdk synth` with file, line and path. Shipped beside each handler.
   */
  readonly grantPolicyFile: string;

  /**
   * How roles opt in to being vended (a role path or a tag, in which accounts). The broker's IAM
   * policy allows sts:AssumeRole/TagSession/SetSourceIdentity on those roles only.
   * Create such roles with `BrokeredRole`.
   */
  readonly brokeredRoles: BrokeredRoleOptIn;

  /**
   * ACM Private CA ARNs the broker may issue from; PCA actions are allowed on these only.
   * @default - the CAs the grant policy's certificate profiles name. When set, it must include
   *   every CA the policy names (the synth fails otherwise: those issuances would be denied).
   */
  readonly certificateAuthorityArns?: string[];

  /**
   * Lets the broker block a revoked credentials lease's session with a deny policy on its role
   * (iam:GetRole, ListRolePolicies, GetRolePolicy, PutRolePolicy, DeleteRolePolicy on opted-in roles only). Off: revoking a
   * credentials lease marks it revoked, and its session stays valid until it expires.
   * @default false
   */
  readonly credentialRevocation?: boolean;

  /** How often the renewal job runs. @default Duration.minutes(5) */
  readonly renewalInterval?: Duration;

  /** When the audit job runs. @default daily at 03:00 UTC */
  readonly auditSchedule?: scheduler.ScheduleExpression;

  /** How long a lease record is kept after it expires (DynamoDB TTL). @default Duration.days(90) */
  readonly leaseRetention?: Duration;

  /** How long audit reports are kept in S3. @default Duration.days(400) */
  readonly auditReportRetention?: Duration;

  /** The functions' log level. @default 'INFO' */
  readonly logLevel?: LogLevel;

  /** Retention of the function and access log groups. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /** Per-route throttling of both APIs. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: apigw.ThrottleSettings;

  /**
   * Names this broker in signed GetCallerIdentity proofs (clients send it; a proof made for one
   * broker is refused by another). @default - a name unique to this construct in its stack
   */
  readonly serverId?: string;

  /** Where alarms notify. @default - alarms without actions (see them on the dashboard) */
  readonly alarmTopic?: sns.ITopic;

  /** Where S3 server access logs of the audit bucket go. @default - none (see nag-suppressions.ts) */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /** What happens to the lease table, audit bucket and log groups when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The nocreds broker: lease table, two HTTP APIs, the functions, the renewal and audit schedules,
 * the audit bucket, alarms and a dashboard, each function allowed only what it calls.
 *
 * Two APIs with the same routes, because an API Gateway route has exactly one authorizer:
 * - `api` (no gateway authorizer): OIDC callers send their token in `Authorization` (raw, as the
 *   container-credentials protocol sends it, or with `Bearer `), or IAM callers send a signed
 *   sts:GetCallerIdentity proof; the function verifies either. JWT authorizers take one issuer
 *   each and cannot read a raw token, and a Lambda authorizer would verify the same JWT in a
 *   second function, adding a cold start and a cache whose key is the token.
 * - `iamApi` (AWS_IAM on every route): SigV4 callers; API Gateway verifies the signature and
 *   passes the caller's ARN, which the function trusts.
 * Same paths on both, so handlers route one way and clients differ only in the base URL.
 *
 * @example
 * const broker = new Nocreds(this, 'Broker', {
 *   grantPolicyFile: 'grants.yaml',
 *   brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'),
 * });
 * new BrokeredRole(this, 'Deployer', { broker, roleName: 'ci-deployer' });
 */
export class Nocreds extends Construct implements IBroker {
  readonly table: dynamodb.Table;
  /** OIDC tokens and GetCallerIdentity proofs, verified in the functions. */
  readonly api: apigw.HttpApi;
  /** SigV4 callers, verified by API Gateway. */
  readonly iamApi: apigw.HttpApi;
  readonly functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>;
  readonly eventBus: events.EventBus;
  readonly auditBucket: s3.Bucket;
  /** Receives scheduled invocations that failed delivery or failed in the function. */
  readonly deadLetterQueue: sqs.Queue;
  readonly monitoring: NocredsMonitoring;
  readonly grantPolicy: StagedGrantPolicy;
  readonly optIn: BrokeredRoleOptIn;
  readonly certificateAuthorityArns: readonly string[];
  readonly serverId: string;
  readonly vendingRoles: readonly iam.IRole[];
  /** The HMAC key of lease-listing cursors. */
  readonly cursorKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: NocredsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.optIn = props.brokeredRoles;
    this.grantPolicy = stageGrantPolicy(props.grantPolicyFile);
    this.certificateAuthorityArns = resolveCertificateAuthorities(this.grantPolicy, props.certificateAuthorityArns);
    this.serverId = props.serverId ?? Names.uniqueResourceName(this, { maxLength: 64 }).toLowerCase();
    const revocation = props.credentialRevocation ?? false;

    this.table = new dynamodb.Table(this, 'LeaseTable', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
    for (const [indexName, keys] of Object.entries(TABLE_SCHEMA.indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: keys.partitionKey, type: dynamodb.AttributeType.STRING },
        ...('sortKey' in keys ? { sortKey: { name: keys.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.eventBus = new events.EventBus(this, 'Events', { description: 'nocreds: certificate renewals and audit findings' });

    this.auditBucket = new s3.Bucket(this, 'AuditReports', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: 'nocreds-audit/' } : {}),
      lifecycleRules: [
        { id: 'expire-reports', expiration: props.auditReportRetention ?? Duration.days(400), noncurrentVersionExpiration: Duration.days(30) },
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.deadLetterQueue = new sqs.Queue(this, 'ScheduledJobDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // Signs pagination cursors; every instance must share it. Lambda resolves the reference at deploy.
    this.cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'nocreds: signs lease-listing cursors (HMAC key; rotating it only invalidates open cursors)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    const settings: BrokerSettings = {
      tableName: this.table.tableName,
      eventBusName: this.eventBus.eventBusName,
      reportBucket: this.auditBucket.bucketName,
      cursorKey: this.cursorKey.secretValue.unsafeUnwrap(),
      revocation,
      serverId: this.serverId,
      logLevel: props.logLevel ?? 'INFO',
      leaseRetentionDays: (props.leaseRetention ?? Duration.days(90)).toDays(),
    };
    assertEntriesExist();
    const functions = {} as Record<BrokerFunctionName, BrokerFunction>;
    for (const name of BROKER_FUNCTION_NAMES) {
      functions[name] = new BrokerFunction(this, `${pascal(name)}Function`, {
        name,
        grantPolicy: this.grantPolicy,
        environment: brokerEnvironment(name, settings),
        logRetention,
        removalPolicy,
      });
    }
    this.functions = functions;
    this.vendingRoles = [functions.credentials.role, functions.leases.role];

    this.grantLeaseAccess(functions);
    this.grantVendingAccess(functions, revocation);
    this.grantCertificateAccess(functions);
    this.eventBus.grantPutEventsTo(functions.renewal.role);
    this.eventBus.grantPutEventsTo(functions.audit.role);
    functions.audit.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.auditBucket.arnForObjects(`${AUDIT_REPORT_PREFIX}*`)] }));

    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    this.api = this.httpApi('Api', 'nocreds: OIDC tokens and GetCallerIdentity proofs, verified in the functions', functions, undefined, throttle, logRetention, removalPolicy);
    this.iamApi = this.httpApi('IamApi', 'nocreds: SigV4 (AWS_IAM) callers', functions, new HttpIamAuthorizer(), throttle, logRetention, removalPolicy);

    this.schedule('Renewal', functions.renewal, scheduler.ScheduleExpression.rate(props.renewalInterval ?? Duration.minutes(5)), Duration.minutes(5));
    this.schedule('Audit', functions.audit, props.auditSchedule ?? scheduler.ScheduleExpression.cron({ minute: '0', hour: '3' }), Duration.hours(6));

    this.monitoring = new NocredsMonitoring(this, 'Monitoring', {
      functions,
      apis: { api: this.api, iamApi: this.iamApi },
      deadLetterQueue: this.deadLetterQueue,
      table: this.table,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL for OIDC callers (token in Authorization) and GetCallerIdentity proofs', value: this.api.apiEndpoint });
    new CfnOutput(this, 'IamApiUrl', { description: 'Base URL for SigV4 (IAM) callers', value: this.iamApi.apiEndpoint });
    new CfnOutput(this, 'ServerId', { description: 'The broker id clients bind into GetCallerIdentity proofs', value: this.serverId });
    new CfnOutput(this, 'VendingRoleArns', { description: 'Roles a brokered role must trust (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity)', value: Stack.of(this).toJsonString(this.vendingRoles.map((r) => r.roleArn)) });
    new CfnOutput(this, 'LeaseTableName', { value: this.table.tableName });
    new CfnOutput(this, 'AuditBucketName', { value: this.auditBucket.bucketName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    suppressNagFindings(this);
  }

  /** DynamoDB: named actions on the table and its named indexes, nothing else. */
  private grantLeaseAccess(functions: Record<BrokerFunctionName, BrokerFunction>): void {
    const resources = [this.table.tableArn, ...Object.keys(TABLE_SCHEMA.indexes).map((index) => `${this.table.tableArn}/index/${index}`)];
    const read = ['dynamodb:GetItem', 'dynamodb:Query'];
    const write = [...read, 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    const access: Partial<Record<BrokerFunctionName, string[]>> = { credentials: write, certificates: write, leases: write, renewal: write, audit: read };
    for (const [name, actions] of Object.entries(access) as [BrokerFunctionName, string[]][]) {
      functions[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    }
  }

  /** STS on opted-in roles (vending, and renewing credentials leases); IAM deny policies only when revocation is on. */
  private grantVendingAccess(functions: Record<BrokerFunctionName, BrokerFunction>, revocation: boolean): void {
    for (const name of ['credentials', 'leases'] as const) {
      functions[name].role.addToPrincipalPolicy(this.optIn.statement(this, VENDING_ACTIONS));
      for (const deny of this.optIn.denyOthers(this, VENDING_ACTIONS)) functions[name].role.addToPrincipalPolicy(deny);
    }
    if (revocation) {
      // The leases function writes a deny for a revoked session (it needs the role id for aws:userid, and
      // the size of the role's other inline policies to stay under IAM's limit); the renewal job prunes entries past expiry.
      for (const name of ['leases', 'renewal'] as const) {
        functions[name].role.addToPrincipalPolicy(this.optIn.statement(this, REVOCATION_ACTIONS));
      }
    }
    // The broker's own roles are never vendable nor rewritable by the broker, even if someone tags
    // them with the opt-in marker: that would let a function assume or widen itself.
    const ownRoles = Object.values(functions).map((f) => f.role.roleArn);
    for (const name of ['credentials', 'leases', 'renewal'] as const) {
      functions[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: [...VENDING_ACTIONS, ...REVOCATION_ACTIONS], resources: ownRoles }));
    }
  }

  /**
   * PCA on the configured CAs only; IssueCertificate also only with the templates the grant
   * policy's profiles use (`acm-pca:TemplateArn`), so the broker cannot mint, say, a CA certificate.
   */
  private grantCertificateAccess(functions: Record<BrokerFunctionName, BrokerFunction>): void {
    if (this.certificateAuthorityArns.length === 0) return;
    const resources = [...this.certificateAuthorityArns];
    const templates = this.grantPolicy.certificateTemplateArns;
    const statements = (extra: string[]) => [
      new iam.PolicyStatement({ actions: ['acm-pca:GetCertificate', 'acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificateAuthorityCertificate', ...extra], resources }),
      ...(templates.length > 0
        ? [new iam.PolicyStatement({ actions: ['acm-pca:IssueCertificate'], resources, conditions: { StringEquals: { 'acm-pca:TemplateArn': templates } } })]
        : []),
    ];
    for (const statement of statements([])) {
      functions.certificates.role.addToPrincipalPolicy(statement);
      functions.renewal.role.addToPrincipalPolicy(statement);
    }
    for (const statement of statements(['acm-pca:RevokeCertificate'])) functions.leases.role.addToPrincipalPolicy(statement);
  }

  private httpApi(
    id: string,
    description: string,
    functions: Record<BrokerFunctionName, BrokerFunction>,
    authorizer: HttpIamAuthorizer | undefined,
    throttle: apigw.ThrottleSettings,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): apigw.HttpApi {
    const api = new apigw.HttpApi(this, id, { description, createDefaultStage: false });
    const accessLogs = new logs.LogGroup(this, `${id}AccessLogs`, { retention: logRetention, removalPolicy });
    new apigw.HttpStage(this, `${id}Stage`, {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    for (const route of API_ROUTES) {
      if (authorizer && route.tokenOnly) continue;
      api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(`${route.fn}-${route.method}-${route.path}`, functions[route.fn].function),
        ...(authorizer ? { authorizer } : {}),
      });
    }
    return api;
  }

  private schedule(id: string, target: BrokerFunction, expression: scheduler.ScheduleExpression, maxEventAge: Duration): void {
    // Lambda's own async retries and failures land in the same queue as Scheduler's delivery failures.
    target.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge, onFailure: new SqsDestination(this.deadLetterQueue) });
    new scheduler.Schedule(this, `${id}Schedule`, {
      schedule: expression,
      description: `nocreds: ${id.toLowerCase()} job`,
      target: new LambdaInvoke(target.function, { retryAttempts: 3, maxEventAge, deadLetterQueue: this.deadLetterQueue }),
    });
  }
}

/** Where the audit function writes its reports in the audit bucket. */
export const AUDIT_REPORT_PREFIX = 'audit/';

/** What the functions' environment is made of (tokens in the stack, plain values in tests). */
export interface BrokerSettings {
  readonly tableName: string;
  readonly eventBusName: string;
  readonly reportBucket: string;
  readonly cursorKey: string;
  readonly revocation: boolean;
  readonly serverId: string;
  readonly logLevel: LogLevel;
  readonly leaseRetentionDays: number;
}

/**
 * The environment of one function: the settings shared/config.ts reads, and no more than that
 * function needs (the cursor key only where leases are listed or paged, the bucket only in audit).
 */
export function brokerEnvironment(name: BrokerFunctionName, settings: BrokerSettings): Record<string, string> {
  return {
    NOCREDS_TABLE_NAME: settings.tableName,
    NOCREDS_EVENT_BUS_NAME: settings.eventBusName,
    NOCREDS_REVOCATION_ENABLED: String(settings.revocation),
    NOCREDS_SERVER_ID: settings.serverId,
    NOCREDS_LOG_LEVEL: settings.logLevel,
    NOCREDS_LEASE_RETENTION_DAYS: String(settings.leaseRetentionDays),
    ...(['leases', 'renewal', 'audit'].includes(name) ? { NOCREDS_CURSOR_KEY: settings.cursorKey } : {}),
    ...(name === 'audit' ? { NOCREDS_REPORT_BUCKET: settings.reportBucket, NOCREDS_REPORT_PREFIX: AUDIT_REPORT_PREFIX } : {}),
  };
}

interface ApiRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
  readonly fn: BrokerFunctionName;
  /** Only on the token API: SDKs send the container token raw, never SigV4. */
  readonly tokenOnly?: boolean;
}

/** API v1 (see shared/DESIGN.md and local/server.ts, which serves the same routes locally). */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: apigw.HttpMethod.POST, path: '/v1/credentials', fn: 'credentials' },
  { method: apigw.HttpMethod.GET, path: '/v1/credentials/container', fn: 'credentials', tokenOnly: true },
  { method: apigw.HttpMethod.POST, path: '/v1/certificates', fn: 'certificates' },
  { method: apigw.HttpMethod.GET, path: '/v1/trust-bundle', fn: 'certificates' },
  { method: apigw.HttpMethod.GET, path: '/v1/leases', fn: 'leases' },
  { method: apigw.HttpMethod.GET, path: '/v1/leases/{id}', fn: 'leases' },
  { method: apigw.HttpMethod.POST, path: '/v1/leases/{id}/revoke', fn: 'leases' },
  { method: apigw.HttpMethod.POST, path: '/v1/leases/{id}/renew', fn: 'leases' },
  { method: apigw.HttpMethod.GET, path: '/v1/whoami', fn: 'whoami' },
];

/** JSON access log: who called which route and how it ended. Never headers, so never a token. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    caller: '$context.identity.userArn',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

function resolveCertificateAuthorities(grants: StagedGrantPolicy, configured: string[] | undefined): string[] {
  if (configured === undefined) return grants.certificateAuthorityArns;
  const missing = grants.certificateAuthorityArns.filter((arn) => !configured.includes(arn));
  if (missing.length > 0) {
    throw new Error(`nocreds: the grant policy ${grants.sourceFile} names CAs missing from certificateAuthorityArns (issuance from them would be denied): ${missing.join(', ')}`);
  }
  return [...configured];
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
