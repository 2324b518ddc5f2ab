import { Arn, CfnOutput, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LEASE_TABLE } from '../shared/adapters/dynamo-lease-table';
import { assertEntriesExist, BROKER_FUNCTION_NAMES, BrokerFunction, type BrokerFunctionName } from './broker-function';
import { DEFAULT_REVOKER_ROLE_NAME } from '../shared/adapters/iam-session-revoker';
import { REVOCATION_ACTIONS, splitRoleName, VENDING_ACTIONS, type BrokeredRoleOptIn, type BrokerRevocation, type IBroker } from './brokered-role';
import { stageGrantPolicy, type StagedGrantPolicy } from './grant-policy-asset';
import { NocredsIssuer, type BrokerWebIdentity, type NocredsIssuerProps } from './issuer';
import { NocredsMonitoring } from './monitoring';
import { SessionReconciler } from './reconciler';
import { webIdentityRuleIds } from '../shared/domain/grant-policy';
import { suppressNagFindings, suppressTemplateCheckFindings } from './nag-suppressions';
import { onIamApi, ROUTES } from '../shared/http/routes';

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
   * Lets the broker block a revoked credentials lease's session with a deny policy on its role.
   * The policy is written in the role's own account, by the revoker role there (`BrokeredRole`
   * makes it; see SessionRevokerRole): the broker's lease and renewal functions may only
   * sts:AssumeRole that role in each opted-in account, and hold no IAM write permission
   * themselves. Without a revoker role in the role's account, a revoke fails (409
   * `revocation_unavailable`) and the lease stays active. Off: revoking a credentials lease marks
   * it revoked, and its session stays valid until it expires.
   * @default false
   */
  readonly credentialRevocation?: boolean;

  /** The revoker role's `[path/]name` in every opted-in account. @default 'nocreds-revoker/nocreds-session-revoker' */
  readonly revokerRoleName?: string;

  /** How often the renewal job runs. @default Duration.minutes(5) */
  readonly renewalInterval?: Duration;

  /** When the audit job runs. @default daily at 03:00 UTC */
  readonly auditSchedule?: scheduler.ScheduleExpression;

  /** How long a lease record is kept after it expires (DynamoDB TTL). @default Duration.days(90) */
  readonly leaseRetention?: Duration;

  /** How long audit reports are kept in S3. @default Duration.days(400) */
  readonly auditReportRetention?: Duration;

  /** The functions' log level (`NOCREDS_LOG_LEVEL`). @default 'INFO' */
  readonly logLevel?: LogLevel;

  /** Retention of the function and access log groups. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Throttling of every route of both APIs (API Gateway answers 429 beyond it, which every AWS SDK
   * retries with backoff).
   *
   * The default is sized for a mass pod restart: every pod's SDK asks for credentials once as it
   * starts, so a cluster restarting 1,000 pods within a second fits in the burst (the token
   * bucket's size), and the rest refill at 500 requests/s. The rate stays under STS's quota of
   * about 600 AssumeRole calls/s per account and Region (shared with everything else in the
   * account), so callers meet API Gateway's 429 before STS throttles the broker into 503s. The
   * limit applies to each route of each API separately; identical requests share one STS call
   * (session reuse), so 500 vends/s rarely means 500 STS calls. The old 50/100 answered most of a
   * 1,000-pod restart with 429s.
   * @default { rateLimit: 500, burstLimit: 1000 }
   */
  readonly throttle?: apigw.ThrottleSettings;

  /**
   * Per-route throttling, overriding `throttle` for the routes named, by route key
   * (`'POST /v1/certificates'`). Every key must be a route of the API (the synth fails otherwise).
   * A map given here replaces the default map.
   * @default { 'POST /v1/certificates': { rateLimit: 25, burstLimit: 50 } } - AWS Private CA issues
   *   about 25 certificates/s per CA; beyond that callers would get 503s instead of 429s.
   */
  readonly routeThrottle?: Readonly<Record<string, apigw.ThrottleSettings>>;

  /**
   * Reserved concurrency per function: a ceiling that also guarantees capacity, so a burst on one
   * function cannot starve the others or the rest of the account. Functions not named keep their
   * default; `false` reserves nothing (for accounts whose concurrency quota is still the new-account
   * 10, where any reservation fails the deploy).
   * @default { credentials: 100, whoami: 10, certificates: 25, leases: 20, renewal: 1, audit: 1, reconciler: 2 } -
   *   at ~60 ms a vend, 100 instances serve well over the 500 requests/s of the default throttle;
   *   certificates follows Private CA's ~25 issuances/s; one renewal or audit run at a time; the
   *   reconciler's queue is read by at most 2 (its event source's maximum concurrency).
   */
  readonly reservedConcurrency?: Partial<Record<BrokerFunctionName, number>> | false;

  /**
   * Provisioned concurrency of the vending (`credentials`) function: that many instances kept
   * initialized, behind an alias `live` that both APIs invoke, so a burst does not wait on cold
   * starts. Billed per instance-hour whether used or not.
   * @default 0 - none (no alias; the APIs invoke the function's latest version)
   */
  readonly vendingProvisionedConcurrency?: number;

  /**
   * X-Ray active tracing on every function (`Tracing.Active`, and the `xray:PutTraceSegments` /
   * `PutTelemetryRecords` permissions it needs, which X-Ray allows only on `*`). HTTP APIs have no
   * X-Ray integration, so traces start at the function. The API functions then load the Powertools
   * tracer (`NOCREDS_TRACING=true`): AWS calls become subsegments, and each request is annotated
   * with its outcome, rule, lease id and error code (never a secret; responses are not captured).
   * Off, the tracer is never loaded.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * A customer-managed KMS key for the data at rest: the lease table, the audit bucket, the
   * dead-letter queue, the cursor-key secret, the log groups, the functions' environment and the
   * alarm topic this construct creates. The construct adds what CloudWatch Logs
   * (`logs.<region>.amazonaws.com`, limited to this account's log groups) and CloudWatch alarms
   * (`cloudwatch.amazonaws.com`, to publish to the encrypted topic) need to the key's policy, and
   * grants each function what it uses. An imported key's policy cannot be changed from here: add
   * those two statements to it yourself.
   * @default - AWS-owned and AWS-managed keys (DynamoDB, SSE-S3, SQS-managed SSE, Secrets Manager's
   *   `aws/secretsmanager`, CloudWatch Logs' own encryption); the alarm topic unencrypted
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Custom domain names for both APIs, with one ACM certificate (in the stack's Region) covering
   * both names. Each API is mapped at the root of its name, so paths stay `/v1/...` and SigV4
   * signatures are computed over the same path. Point DNS (an alias or CNAME) at the
   * `ApiDomainTarget` and `IamApiDomainTarget` outputs.
   * @default - the `execute-api` URLs only
   */
  readonly customDomain?: NocredsCustomDomain;

  /**
   * Where alarms notify (alarm and OK actions). Bring your own topic (on-call paging, a chat
   * integration), or leave it out and the construct creates one.
   * @default - a new topic, subscribed by `alarmEmails`
   */
  readonly alarmTopic?: sns.ITopic;

  /** Email addresses subscribed to the alarm topic (each must confirm the subscription). @default - none */
  readonly alarmEmails?: string[];

  /**
   * Names this broker in signed GetCallerIdentity proofs (clients send it; a proof made for one
   * broker is refused by another, so it must differ between deployments: never reuse one id for
   * dev and prod). Clients read it from the `ServerId` stack output.
   * @default - `nocreds:<account>:<region>:<stack name>:<construct path>:<stack UUID>`, unique per
   *   deployment (see defaultServerId)
   */
  readonly serverId?: string;

  /** Where S3 server access logs of the audit bucket go. @default - none (see nag-suppressions.ts) */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /** What happens to the lease table, audit bucket and log groups when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Issuer mode (grant rules with `credentials.via: web-identity`): the audience and the KMS keys,
   * for rotation (see infra/issuer.ts for the runbook). Setting it makes the issuer even without
   * such a rule. @default - an issuer with a new key when the grant policy has a web-identity rule
   */
  readonly issuer?: NocredsIssuerProps;
}

/** Custom domain names of the two APIs (see `NocredsProps.customDomain`). */
export interface NocredsCustomDomain {
  /** An ACM certificate in the stack's Region for both names (a SAN or wildcard certificate). */
  readonly certificate: acm.ICertificate;
  /** The name of the API for OIDC tokens and GetCallerIdentity proofs, e.g. `nocreds.example.org`. */
  readonly domainName: string;
  /** The name of the SigV4 (IAM) API, e.g. `nocreds-iam.example.org`. */
  readonly iamDomainName: string;
  /**
   * Turn off the `execute-api` endpoints, so the custom names are the only way in.
   * @default false
   */
  readonly disableExecuteApiEndpoint?: boolean;
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
 *   alarmEmails: ['oncall@example.org'],
 * });
 * new BrokeredRole(this, 'Deployer', { broker, roleName: 'ci-deployer' });
 *
 * @example
 * // Production: own domain names, a customer-managed key, traces, warm vending instances, paging.
 * const key = new kms.Key(this, 'NocredsKey', { enableKeyRotation: true });
 * const broker = new Nocreds(this, 'Broker', {
 *   grantPolicyFile: 'grants.yaml',
 *   brokeredRoles: BrokeredRoleOptIn.byTag('nocreds:brokered', 'true', { accounts: ['111122223333'] }),
 *   customDomain: { certificate, domainName: 'nocreds.example.org', iamDomainName: 'nocreds-iam.example.org' },
 *   encryptionKey: key,
 *   tracing: true,
 *   vendingProvisionedConcurrency: 5,
 *   alarmTopic: pagerTopic,
 * });
 * broker.grantInvoke(ciRole);          // execute-api:Invoke on the IAM API's routes
 * broker.grantReadReports(auditors);   // read the audit reports
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
  /** The CloudTrail reconciler's rule and queues (infra/reconciler.ts). */
  readonly reconciler: SessionReconciler;
  readonly grantPolicy: StagedGrantPolicy;
  readonly optIn: BrokeredRoleOptIn;
  readonly certificateAuthorityArns: readonly string[];
  readonly serverId: string;
  readonly vendingRoles: readonly iam.IRole[];
  /** Set with credentialRevocation: who assumes the revoker roles, and their name. */
  readonly revocation?: BrokerRevocation;
  /** The HMAC key of lease-listing cursors. */
  readonly cursorKey: secretsmanager.Secret;
  /** Where every alarm notifies (the one given, or the one this construct created). */
  readonly alarmTopic: sns.ITopic;
  /** The key of the data at rest, when one was given. */
  readonly encryptionKey?: kms.IKey;
  /** The custom domain names, when configured (`api` first, then `iamApi`). */
  readonly domainNames: readonly apigw.DomainName[];
  /** The roles EventBridge Scheduler invokes the renewal and audit functions with. */
  readonly scheduleRoles: iam.Role[] = [];
  /** Issuer mode: the signing key, the issuer URL and its OIDC provider (see infra/issuer.ts). */
  readonly issuer?: NocredsIssuer;
  /** What a BrokeredRole needs to trust this broker's web identity tokens (set in issuer mode). */
  readonly webIdentity?: BrokerWebIdentity;

  constructor(scope: Construct, id: string, props: NocredsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const key = props.encryptionKey;
    this.encryptionKey = key;
    if (key) allowServicesToUseKey(this, key);
    this.optIn = props.brokeredRoles;
    this.grantPolicy = stageGrantPolicy(props.grantPolicyFile);
    this.certificateAuthorityArns = resolveCertificateAuthorities(this.grantPolicy, props.certificateAuthorityArns);
    this.serverId = props.serverId ?? defaultServerId(this);
    const revocation = props.credentialRevocation ?? false;
    const revokerRoleName = props.revokerRoleName ?? DEFAULT_REVOKER_ROLE_NAME;
    splitRoleName(revokerRoleName);

    this.table = new dynamodb.Table(this, 'LeaseTable', {
      partitionKey: { name: LEASE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEASE_TABLE.ttlAttribute,
      deletionProtection: true,
      ...(key ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key } : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy,
    });
    // The one description of the table (shared/adapters/dynamo-lease-table.ts): sparse, lean indexes.
    for (const index of LEASE_TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(index.sortKey ? { sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        ...(index.projection.type === 'INCLUDE'
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection.attributes] }
          : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      });
    }

    this.eventBus = new events.EventBus(this, 'Events', { description: 'nocreds: certificate renewals and audit findings' });

    this.auditBucket = new s3.Bucket(this, 'AuditReports', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      ...(key ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true } : { encryption: s3.BucketEncryption.S3_MANAGED }),
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
      ...(key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // Signs pagination cursors; every instance must share it. Only its ARN is in the leases
    // function's environment: the function reads the value at init (shared/adapters/cursor-key.ts).
    this.cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'nocreds: signs lease-listing cursors (HMAC key; rotating it only invalidates open cursors)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      ...(key ? { encryptionKey: key } : {}),
      removalPolicy,
    });
    const settings: BrokerSettings = {
      tableName: this.table.tableName,
      eventBusName: this.eventBus.eventBusName,
      reportBucket: this.auditBucket.bucketName,
      cursorKeySecretArn: this.cursorKey.secretArn,
      revocation,
      revokerRoleName,
      serverId: this.serverId,
      logLevel: props.logLevel ?? 'INFO',
      tracing: props.tracing ?? false,
      leaseRetentionDays: (props.leaseRetention ?? Duration.days(90)).toDays(),
    };
    assertEntriesExist();
    const reserved = props.reservedConcurrency === false ? undefined : { ...DEFAULT_RESERVED_CONCURRENCY, ...props.reservedConcurrency };
    checkConcurrency(reserved, props.vendingProvisionedConcurrency);
    const functions = {} as Record<BrokerFunctionName, BrokerFunction>;
    for (const name of BROKER_FUNCTION_NAMES) {
      functions[name] = new BrokerFunction(this, `${pascal(name)}Function`, {
        name,
        grantPolicy: this.grantPolicy,
        environment: brokerEnvironment(name, settings),
        logRetention,
        removalPolicy,
        ...(reserved?.[name] !== undefined ? { reservedConcurrency: reserved[name] } : {}),
        ...(name === 'credentials' && props.vendingProvisionedConcurrency ? { provisionedConcurrency: props.vendingProvisionedConcurrency } : {}),
        tracing: props.tracing ?? false,
        ...(key ? { encryptionKey: key } : {}),
      });
    }
    this.functions = functions;
    this.vendingRoles = [functions.credentials.role, functions.leases.role];
    if (revocation) this.revocation = { roles: [functions.leases.role, functions.renewal.role, functions.reconciler.role], revokerRoleName, brokerRoles: Object.values(functions).map((f) => f.role) };

    this.grantLeaseAccess(functions);
    // Only the function that signs and checks cursors reads the key (and, with encryptionKey, decrypts it).
    this.cursorKey.grantRead(functions.leases.role);
    this.grantVendingAccess(functions, revocation);
    this.grantCertificateAccess(functions);
    this.eventBus.grantPutEventsTo(functions.renewal.role);
    this.eventBus.grantPutEventsTo(functions.audit.role);
    functions.audit.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.auditBucket.arnForObjects(`${AUDIT_REPORT_PREFIX}*`)] }));
    if (key) this.grantKeyUse(functions, key);

    const apiSettings: ApiSettings = {
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      routeThrottle: props.routeThrottle ?? DEFAULT_ROUTE_THROTTLE,
      logRetention,
      removalPolicy,
      ...(key ? { encryptionKey: key } : {}),
      disableExecuteApiEndpoint: props.customDomain?.disableExecuteApiEndpoint ?? false,
    };
    const domain = (id: string, name: string | undefined) =>
      name && props.customDomain ? new apigw.DomainName(this, id, { domainName: name, certificate: props.customDomain.certificate, securityPolicy: apigw.SecurityPolicy.TLS_1_2 }) : undefined;
    const apiDomain = domain('ApiDomain', props.customDomain?.domainName);
    const iamApiDomain = domain('IamApiDomain', props.customDomain?.iamDomainName);
    this.domainNames = [apiDomain, iamApiDomain].filter((d) => d !== undefined);
    this.api = this.httpApi('Api', 'nocreds: OIDC tokens and GetCallerIdentity proofs, verified in the functions', functions, undefined, apiSettings, apiDomain);
    this.iamApi = this.httpApi('IamApi', 'nocreds: SigV4 (AWS_IAM) callers', functions, new HttpIamAuthorizer(), apiSettings, iamApiDomain);

    // Issuer mode (infra/issuer.ts): the vending functions sign tokens; the OIDC provider trusts the API's URL.
    if (props.issuer || webIdentityRuleIds(this.grantPolicy.policy).length > 0) {
      this.issuer = new NocredsIssuer(this, 'Issuer', { ...props.issuer, api: this.api, domainName: props.customDomain?.domainName, signers: [functions.credentials, functions.leases], removalPolicy });
      this.webIdentity = this.issuer;
    }

    this.schedule('Renewal', functions.renewal, scheduler.ScheduleExpression.rate(props.renewalInterval ?? Duration.minutes(5)), Duration.minutes(5));
    this.schedule('Audit', functions.audit, props.auditSchedule ?? scheduler.ScheduleExpression.cron({ minute: '0', hour: '3' }), Duration.hours(6));

    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', { displayName: 'nocreds alarms', enforceSSL: true, ...(key ? { masterKey: key } : {}) });
    for (const email of props.alarmEmails ?? []) this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(email));

    this.monitoring = new NocredsMonitoring(this, 'Monitoring', {
      functions,
      apis: { api: this.api, iamApi: this.iamApi },
      deadLetterQueue: this.deadLetterQueue,
      table: this.table,
      alarmTopic: this.alarmTopic,
    });
    // CloudTrail -> EventBridge -> SQS (grace period) -> reconciler: every broker session ends as a lease.
    this.reconciler = new SessionReconciler(this, 'Reconciler', {
      function: functions.reconciler,
      table: this.table,
      brokerRoles: this.vendingRoles,
      ...(revocation ? { revokerRoleArns: this.revokerRoleArns() } : {}),
      monitoring: this.monitoring,
      ...(key ? { encryptionKey: key } : {}),
    });

    const url = (api: apigw.HttpApi, name: string | undefined) => (name ? `https://${name}` : api.apiEndpoint);
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL for OIDC callers (token in Authorization) and GetCallerIdentity proofs', value: url(this.api, props.customDomain?.domainName) });
    new CfnOutput(this, 'IamApiUrl', { description: 'Base URL for SigV4 (IAM) callers', value: url(this.iamApi, props.customDomain?.iamDomainName) });
    if (props.customDomain && apiDomain && iamApiDomain) {
      new CfnOutput(this, 'ApiDomainTarget', { description: `Point ${props.customDomain.domainName} here (alias or CNAME)`, value: apiDomain.regionalDomainName });
      new CfnOutput(this, 'IamApiDomainTarget', { description: `Point ${props.customDomain.iamDomainName} here (alias or CNAME)`, value: iamApiDomain.regionalDomainName });
    }
    new CfnOutput(this, 'AlarmTopicArn', { description: 'Every alarm notifies this topic (alarm and OK); subscribe on-call here', value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'ServerId', { description: 'The broker id clients bind into GetCallerIdentity proofs', value: this.serverId });
    if (this.revocation) {
      new CfnOutput(this, 'RevocationRoleArns', {
        description: `Roles a revoker role (${revokerRoleName}) must trust with sts:AssumeRole, in every account with brokered roles`,
        value: Stack.of(this).toJsonString(this.revocation.roles.map((r) => r.roleArn)),
      });
    }
    new CfnOutput(this, 'VendingRoleArns', { description: 'Roles a brokered role must trust (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity)', value: Stack.of(this).toJsonString(this.vendingRoles.map((r) => r.roleArn)) });
    new CfnOutput(this, 'LeaseTableName', { value: this.table.tableName });
    new CfnOutput(this, 'AuditBucketName', { value: this.auditBucket.bucketName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    suppressNagFindings(this);
    suppressTemplateCheckFindings(this);
  }

  /**
   * Lets `grantee` call every route of the IAM API (`execute-api:Invoke` on the `$default` stage's
   * routes, path parameters as `*`): what a SigV4 caller needs besides a grant rule.
   *
   * @example
   * broker.grantInvoke(ciRole);
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const resourceArns = [...new Set(API_ROUTES.filter((r) => !r.tokenOnly).map((r) => this.iamApi.arnForExecuteApi(r.method, r.path.replace(/\{[^}]+\}/g, '*'), '$default')))];
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns });
  }

  /**
   * Lets `grantee` read the audit reports (`s3:GetObject*`, `s3:List*` under the report prefix, and
   * `kms:Decrypt` when the bucket has a customer-managed key).
   *
   * @example
   * broker.grantReadReports(securityTeamRole);
   */
  grantReadReports(grantee: iam.IGrantable): iam.Grant {
    return this.auditBucket.grantRead(grantee, `${AUDIT_REPORT_PREFIX}*`);
  }

  /** What each function needs of the customer-managed key, matching what it may do with the data. */
  private grantKeyUse(functions: Record<BrokerFunctionName, BrokerFunction>, key: kms.IKey): void {
    // Every function's environment is encrypted with the key: Lambda decrypts it at cold start through a
    // grant it makes for the execution role at deploy; kms:Decrypt on the role keeps that working if the grant is retired.
    for (const fn of Object.values(functions)) key.grantDecrypt(fn.role);
    for (const name of ['credentials', 'certificates', 'leases', 'renewal'] as const) key.grantEncryptDecrypt(functions[name].role);
    // The report is written encrypted: S3 asks KMS for a data key on the writer's behalf.
    key.grant(functions.audit.role, 'kms:GenerateDataKey');
  }

  /** DynamoDB: named actions on the table and its named indexes, nothing else. */
  private grantLeaseAccess(functions: Record<BrokerFunctionName, BrokerFunction>): void {
    const resources = [this.table.tableArn, ...LEASE_TABLE.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`)];
    const read = ['dynamodb:GetItem', 'dynamodb:Query'];
    const write = [...read, 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    // Keys-only indexes: listings and the jobs read the items they find with BatchGetItem; an admin
    // listing of every caller's leases is a Scan (leases function only).
    const batchRead = ['dynamodb:BatchGetItem', ...read];
    const access: Partial<Record<BrokerFunctionName, string[]>> = {
      credentials: write,
      certificates: write,
      leases: ['dynamodb:BatchGetItem', 'dynamodb:Scan', ...write],
      renewal: ['dynamodb:BatchGetItem', ...write],
      audit: batchRead,
    };
    for (const [name, actions] of Object.entries(access) as [BrokerFunctionName, string[]][]) {
      functions[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    }
  }

  /**
   * STS on opted-in roles (vending, and renewing credentials leases). With revocation, the lease and
   * renewal functions may also assume the revoker role of each opted-in account, and nothing more:
   * the deny policies are written with that account's credentials, never the broker's.
   */
  private grantVendingAccess(functions: Record<BrokerFunctionName, BrokerFunction>, revocation: boolean): void {
    const revokerArns = revocation ? this.revokerRoleArns() : [];
    for (const name of ['credentials', 'leases'] as const) {
      functions[name].role.addToPrincipalPolicy(this.optIn.statement(this, VENDING_ACTIONS));
      for (const deny of this.optIn.denyOthers(this, VENDING_ACTIONS, name === 'leases' ? revokerArns : [])) functions[name].role.addToPrincipalPolicy(deny);
    }
    if (revocation) {
      for (const name of ['leases', 'renewal'] as const) {
        functions[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: revokerArns }));
      }
    }
    // The broker's own roles are never vendable nor rewritable by the broker, even if someone tags
    // them with the opt-in marker: that would let a function assume or widen itself.
    const ownRoles = Object.values(functions).map((f) => f.role.roleArn);
    for (const name of ['credentials', 'leases', 'renewal', 'reconciler'] as const) {
      functions[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: [...VENDING_ACTIONS, ...REVOCATION_ACTIONS], resources: ownRoles }));
    }
  }

  /** The revoker role's ARN in each opted-in account. */
  private revokerRoleArns(): string[] {
    const { path, name } = splitRoleName(this.revocation?.revokerRoleName ?? DEFAULT_REVOKER_ROLE_NAME);
    const stack = Stack.of(this);
    return this.optIn.accountsOf(this).map((account) => Arn.format({ service: 'iam', region: '', account, resource: 'role', resourceName: `${path.slice(1)}${name}` }, stack));
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
    settings: ApiSettings,
    domainName: apigw.DomainName | undefined,
  ): apigw.HttpApi {
    const api = new apigw.HttpApi(this, id, { description, createDefaultStage: false, disableExecuteApiEndpoint: settings.disableExecuteApiEndpoint });
    const accessLogs = new logs.LogGroup(this, `${id}AccessLogs`, { retention: settings.logRetention, removalPolicy: settings.removalPolicy, ...(settings.encryptionKey ? { encryptionKey: settings.encryptionKey } : {}) });
    const stage = new apigw.HttpStage(this, `${id}Stage`, {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
      ...(domainName ? { domainMapping: { domainName } } : {}),
    });
    const routeKeys: string[] = [];
    for (const route of API_ROUTES) {
      if (authorizer && route.tokenOnly) continue;
      routeKeys.push(`${route.method} ${route.path}`);
      const routes = api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(`${route.fn}-${route.method}-${route.path}`, functions[route.fn].handler),
        ...(authorizer ? { authorizer } : {}),
      });
      // Route settings name routes that must exist first.
      for (const r of routes) stage.node.addDependency(r);
    }
    const routeSettings = Object.fromEntries(
      Object.entries(settings.routeThrottle)
        .filter(([routeKey]) => routeKeys.includes(routeKey))
        .map(([routeKey, t]) => [routeKey, { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit }]),
    );
    const unknown = Object.keys(settings.routeThrottle).filter((routeKey) => !API_ROUTES.some((r) => `${r.method} ${r.path}` === routeKey));
    if (unknown.length > 0) throw new Error(`nocreds: routeThrottle names routes the API does not have: ${unknown.join(', ')} (route keys look like "POST /v1/certificates")`);
    if (Object.keys(routeSettings).length > 0) (stage.node.defaultChild as apigw.CfnStage).routeSettings = routeSettings;
    return api;
  }

  private schedule(id: string, target: BrokerFunction, expression: scheduler.ScheduleExpression, maxEventAge: Duration): void {
    // Lambda's own async retries and failures land in the same queue as Scheduler's delivery failures.
    target.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge, onFailure: new SqsDestination(this.deadLetterQueue) });
    // Our own role (LambdaInvoke would share one per target at stack level), so it can be given the queue's key.
    const role = new iam.Role(this, `${id}ScheduleRole`, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: `EventBridge Scheduler: invokes the nocreds ${id.toLowerCase()} function`,
    });
    this.encryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.scheduleRoles.push(role);
    new scheduler.Schedule(this, `${id}Schedule`, {
      schedule: expression,
      description: `nocreds: ${id.toLowerCase()} job`,
      target: new LambdaInvoke(target.function, { retryAttempts: 3, maxEventAge, deadLetterQueue: this.deadLetterQueue, role }),
    });
  }
}

/**
 * The server id of a broker that was given none. Invariant: no two deployments share it, so a
 * GetCallerIdentity proof made for one broker (say, dev) is refused by every other (prod) during
 * the 15 minutes it would otherwise be accepted. Account, region, stack name and the construct's
 * path say which broker it is; the random part is the UUID in the stack's CloudFormation id, drawn
 * when the stack is created and fixed for its life, so it survives updates and differs for a stack
 * deleted and created again under the same name. A token at synth: `cdk synth` stays offline and
 * deterministic, and CloudFormation resolves it at deploy (the `ServerId` output shows the value).
 */
export function defaultServerId(scope: Construct): string {
  const stack = Stack.of(scope);
  const scopes = scope.node.scopes;
  const path = scopes.slice(scopes.indexOf(stack) + 1).map((c) => c.node.id.replace(/[^\w.-]/g, '-')).join('.');
  const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
  return Fn.join(':', ['nocreds', stack.account, stack.region, stack.stackName, path, stackUuid]);
}

/** See `NocredsProps.throttle`. */
export const DEFAULT_THROTTLE: apigw.ThrottleSettings = { rateLimit: 500, burstLimit: 1000 };
/** See `NocredsProps.routeThrottle`. */
export const DEFAULT_ROUTE_THROTTLE: Readonly<Record<string, apigw.ThrottleSettings>> = { 'POST /v1/certificates': { rateLimit: 25, burstLimit: 50 } };
/** See `NocredsProps.reservedConcurrency`. */
export const DEFAULT_RESERVED_CONCURRENCY: Readonly<Record<BrokerFunctionName, number>> = { credentials: 100, whoami: 10, certificates: 25, leases: 20, renewal: 1, audit: 1, reconciler: 2 };

interface ApiSettings {
  readonly throttle: apigw.ThrottleSettings;
  readonly routeThrottle: Readonly<Record<string, apigw.ThrottleSettings>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly encryptionKey?: kms.IKey;
  readonly disableExecuteApiEndpoint: boolean;
}

/** Fails the synth on concurrency settings Lambda would refuse at deploy or that would switch a function off. */
function checkConcurrency(reserved: Partial<Record<BrokerFunctionName, number>> | undefined, provisioned: number | undefined): void {
  for (const [name, value] of Object.entries(reserved ?? {})) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`nocreds: reservedConcurrency.${name} must be a whole number of at least 1 (0 would throttle every call); got ${value}`);
    }
  }
  if (provisioned === undefined || provisioned === 0) return;
  if (!Number.isInteger(provisioned) || provisioned < 0) throw new Error(`nocreds: vendingProvisionedConcurrency must be a whole number; got ${provisioned}`);
  const ceiling = reserved?.credentials;
  if (ceiling !== undefined && provisioned > ceiling) {
    throw new Error(`nocreds: vendingProvisionedConcurrency (${provisioned}) cannot exceed the credentials function's reserved concurrency (${ceiling})`);
  }
}

/**
 * The key-policy statements AWS services need to use a customer-managed key on our behalf:
 * CloudWatch Logs for this account's log groups, CloudWatch alarms to publish to the encrypted
 * topic. A no-op for an imported key (its policy lives elsewhere; see `NocredsProps.encryptionKey`).
 */
function allowServicesToUseKey(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsToEncryptedTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
}

/** Where the audit function writes its reports in the audit bucket. */
export const AUDIT_REPORT_PREFIX = 'audit/';

/** What the functions' environment is made of (tokens in the stack, plain values in tests). */
export interface BrokerSettings {
  readonly tableName: string;
  readonly eventBusName: string;
  readonly reportBucket: string;
  /** The secret holding the cursor HMAC key: its ARN only, never its value. */
  readonly cursorKeySecretArn: string;
  readonly revocation: boolean;
  /** The revoker role's `[path/]name` in every account (NOCREDS_REVOKER_ROLE_NAME). */
  readonly revokerRoleName?: string;
  readonly serverId: string;
  readonly logLevel: LogLevel;
  /** X-Ray: the functions load the Powertools tracer only when this is on (NOCREDS_TRACING). */
  readonly tracing?: boolean;
  readonly leaseRetentionDays: number;
}

/**
 * The environment of one function: the settings shared/config.ts reads, and no more than that
 * function needs (the cursor key's secret ARN only where leases are listed or paged, the bucket
 * only in audit). Never a secret value: a secret is read at run time from its ARN.
 */
export function brokerEnvironment(name: BrokerFunctionName, settings: BrokerSettings): Record<string, string> {
  return {
    NOCREDS_TABLE_NAME: settings.tableName,
    NOCREDS_EVENT_BUS_NAME: settings.eventBusName,
    NOCREDS_REVOCATION_ENABLED: String(settings.revocation),
    NOCREDS_SERVER_ID: settings.serverId,
    NOCREDS_LOG_LEVEL: settings.logLevel,
    NOCREDS_LEASE_RETENTION_DAYS: String(settings.leaseRetentionDays),
    ...(settings.tracing ? { NOCREDS_TRACING: 'true' } : {}),
    ...(name === 'leases' ? { NOCREDS_CURSOR_KEY_SECRET_ARN: settings.cursorKeySecretArn } : {}),
    ...(settings.revocation && settings.revokerRoleName && ['leases', 'renewal', 'reconciler'].includes(name) ? { NOCREDS_REVOKER_ROLE_NAME: settings.revokerRoleName } : {}),
    ...(name === 'audit' ? { NOCREDS_REPORT_BUCKET: settings.reportBucket, NOCREDS_REPORT_PREFIX: AUDIT_REPORT_PREFIX } : {}),
  };
}

interface ApiRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
  readonly fn: BrokerFunctionName;
  /** Only on the token API (no SigV4): see `RouteSpec.auth`. */
  readonly tokenOnly?: boolean;
}

/** API v1, from the one route table (shared/http/routes.ts, which local/server.ts and docs/openapi.json also follow). */
export const API_ROUTES: readonly ApiRoute[] = ROUTES.map((route) => ({ method: apigw.HttpMethod[route.method], path: route.path, fn: route.fn, tokenOnly: !onIamApi(route) }));

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
