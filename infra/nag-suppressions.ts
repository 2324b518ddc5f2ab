import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnApiMapping } from 'aws-cdk-lib/aws-apigatewayv2';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import { renderArnForNag as renderForNag } from './brokered-role';
import { AUDIT_REPORT_PREFIX, type Nocreds } from './nocreds';

/**
 * Every cdk-nag (AwsSolutions) suppression of the broker, each with its reason, in one place.
 * Each is as narrow as cdk-nag allows: one resource, one rule, and for IAM5 the exact wildcard.
 */
export function suppressNagFindings(broker: Nocreds): void {
  const stack = Stack.of(broker);
  const resolve = (value: string) => stack.resolve(value) as unknown;
  // cdk-nag reports wildcards in its own rendering of the resolved ARN, e.g. `Resource::arn:<AWS::Partition>:...`.
  const nagArn = (value: string) => renderForNag(resolve(value));

  for (const fn of Object.values(broker.functions)) {
    NagSuppressions.addResourceSuppressions(fn.function, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is chosen on purpose: the bundles target node22 (esbuild) and are tested on it; Lambda supports it until 2027-04. Moving to nodejs24.x is one line in infra/broker-function.ts.',
      },
    ]);
  }

  const optInWildcards = broker.optIn.roleArns(broker).map((arn) => `Resource::${nagArn(arn)}`);
  const optInReason =
    broker.optIn.marker.kind === 'path'
      ? `Brokered roles are exactly the roles under the opt-in path ${broker.optIn.marker.path}; a path prefix in the role ARN is how IAM names them. Each such role must also trust the broker.`
      : `Brokered roles are exactly the roles tagged ${broker.optIn.marker.key}=${broker.optIn.marker.value} (aws:ResourceTag condition on the same statement); IAM can only name tagged roles with a role/* resource plus that condition.`;
  for (const name of ['credentials', 'leases', 'renewal'] as const) {
    NagSuppressions.addResourceSuppressions(broker.functions[name].role, [{ id: 'AwsSolutions-IAM5', reason: optInReason, appliesTo: optInWildcards }], true);
  }

  NagSuppressions.addResourceSuppressions(
    broker.functions.audit.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: `The audit function writes one report per run under a key named by the run date; s3:PutObject only, under ${AUDIT_REPORT_PREFIX} in its own audit bucket.`,
        appliesTo: [`Resource::${nagArn(broker.auditBucket.bucketArn)}/${AUDIT_REPORT_PREFIX}*`],
      },
    ],
    true,
  );

  NagSuppressions.addResourceSuppressions(
    broker.api,
    [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Authorization happens in the function: OIDC tokens (one route per API serves many issuers, and the container-credentials route receives a raw token, which JWT authorizers cannot take) and signed GetCallerIdentity proofs are verified by the Authenticator before any work; unauthenticated requests get 401. SigV4 callers use iamApi, where every route is AWS_IAM.',
      },
    ],
    true,
  );

  const scheduled = [broker.functions.renewal, broker.functions.audit].map((fn) => `Resource::${nagArn(fn.function.functionArn)}:*`);
  for (const role of broker.scheduleRoles) {
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: "EventBridge Scheduler's LambdaInvoke target allows lambda:InvokeFunction on its one function and that function's versions and aliases (ARN:*); nothing else.",
          appliesTo: scheduled,
        },
      ],
      true,
    );
  }

  if (!hasAccessLogs(broker)) {
    NagSuppressions.addResourceSuppressions(broker.auditBucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Only the audit function writes to this bucket and readers are operators; CloudTrail records both. Pass serverAccessLogsBucket to log every object access (it needs a second bucket, which would itself have no access logs).',
      },
    ]);
  }

  NagSuppressions.addResourceSuppressions(broker.cursorKey, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'The cursor key only makes lease-listing cursors tamper-evident (authorization is checked on every request); the leases function reads it at run time (cached 15 minutes), so a rotation needs no redeploy and would only invalidate open cursors, but no rotation Lambda is deployed for a key this low in value.',
    },
  ]);

  NagSuppressions.addResourceSuppressions(broker.deadLetterQueue, [
    { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the renewal and audit schedules and functions.' },
  ]);

  if (!broker.encryptionKey && isOwnTopic(broker)) {
    NagSuppressions.addResourceSuppressions(broker.alarmTopic, [{ id: 'AwsSolutions-SNS2', reason: UNENCRYPTED_TOPIC_REASON }]);
  }

  if (broker.encryptionKey) {
    for (const fn of Object.values(broker.functions)) {
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: "The encryptionKey grants (CDK's grantEncryptDecrypt / grantDecrypt, on that one key only): kms:GenerateDataKey* and kms:ReEncrypt* name the key's GenerateDataKey(WithoutPlaintext) and ReEncryptFrom/To, which DynamoDB, S3 and SQS call on the function's behalf.",
            appliesTo: ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
          },
        ],
        true,
      );
    }
  }

  const traced = Object.values(broker.functions).filter((fn) => (fn.function.node.defaultChild as { tracingConfig?: unknown }).tracingConfig !== undefined);
  for (const fn of traced) {
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [{ id: 'AwsSolutions-IAM5', reason: 'X-Ray tracing (tracing prop): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so X-Ray requires Resource "*".', appliesTo: ['Resource::*'] }],
      true,
    );
  }
}

const UNENCRYPTED_TOPIC_REASON =
  "Alarm notifications carry alarm names, states and runbook lines, no secrets. CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key (its policy cannot be changed to admit cloudwatch.amazonaws.com), so encryption needs a customer-managed key: pass encryptionKey and the topic uses it.";

/**
 * Every finding of the template checkers operators run, cfn-lint and checkov, that the broker
 * leaves on purpose, each with its reason, written into the template's metadata where the tools
 * read them (`Metadata.checkov.skip[{id, comment}]`, `Metadata.cfn-lint.config.ignore_checks`).
 * What the props fix (a customer-managed key, an access-log bucket, reserved concurrency) is
 * suppressed only while the prop is unset. test/infra/template-checks.test.ts runs both tools.
 */
export function suppressTemplateCheckFindings(broker: Nocreds): void {
  const key = broker.encryptionKey !== undefined;
  const withKey = 'Pass encryptionKey (a customer-managed KMS key) and this resource uses it.';

  for (const [name, fn] of Object.entries(broker.functions)) {
    const lambda = fn.function.node.defaultChild as CfnResource;
    const scheduled = name === 'renewal' || name === 'audit';
    skipCheckov(lambda, 'CKV_AWS_117', 'Not in a VPC on purpose: the functions reach only public AWS endpoints (STS, Private CA, DynamoDB, S3, EventBridge) and the OIDC issuers\' JWKS over HTTPS; a VPC would add NAT gateways or interface endpoints and cold-start time, and isolate nothing.');
    skipCheckov(
      lambda,
      'CKV_AWS_116',
      scheduled
        ? 'Failed asynchronous invocations go to the dead-letter queue through an on-failure destination (AWS::Lambda::EventInvokeConfig), which checkov does not read; the schedule has the same queue as its own dead-letter queue.'
        : name === 'reconciler'
          ? 'Invoked by an SQS event source mapping: a message that keeps failing moves to its queue\'s dead-letter queue (redrive policy); a function dead-letter queue only applies to asynchronous invocations.'
          : 'Invoked synchronously by API Gateway: a dead-letter queue only applies to asynchronous invocations; the caller receives the error.',
    );
    if ((lambda as CfnFunction).reservedConcurrentExecutions === undefined) {
      skipCheckov(lambda, 'CKV_AWS_115', 'Reserved concurrency was turned off for this function by the deployer (reservedConcurrency prop), e.g. in an account whose concurrency quota is still 10.');
    }
    if (!key) {
      skipCheckov(
        lambda,
        'CKV_AWS_173',
        `The environment holds names, ARNs and settings only, never a secret (the cursor key is read from Secrets Manager at run time); Lambda encrypts it at rest with its AWS-managed key. ${withKey}`,
      );
      skipCheckov(fn.logGroup.node.defaultChild as CfnResource, 'CKV_AWS_158', `Encrypted by CloudWatch Logs' own keys; the functions never log tokens, keys or request bodies. ${withKey}`);
    }
    // CDK writes DependsOn the role beside the GetAtt of its ARN (its usual order of role policy and function).
    ignoreCfnLint(lambda, 'W3005');
  }

  // CDK writes DependsOn the domain name beside the Ref to it.
  for (const mapping of broker.node.findAll().filter((c): c is CfnApiMapping => c instanceof CfnApiMapping)) ignoreCfnLint(mapping, 'W3005');

  if (!key) {
    for (const api of [broker.api, broker.iamApi]) {
      const accessLogs = broker.node.findChild(`${api.node.id}AccessLogs`).node.defaultChild as CfnResource;
      skipCheckov(accessLogs, 'CKV_AWS_158', `Access logs (route, status, caller ARN, source IP; never headers, so never a token) are encrypted by CloudWatch Logs' own keys. ${withKey}`);
    }
    skipCheckov(broker.table.node.defaultChild as CfnResource, 'CKV_AWS_119', `Encrypted at rest with the AWS-managed DynamoDB key; leases hold identities and ids, never credentials. ${withKey}`);
    skipCheckov(broker.deadLetterQueue.node.defaultChild as CfnResource, 'CKV_AWS_27', `Encrypted with SQS-managed SSE (SqsManagedSseEnabled), which checkov does not count; messages hold the failed scheduled event only. ${withKey}`);
    for (const queue of [broker.reconciler.queue, broker.reconciler.deadLetterQueue]) {
      skipCheckov(queue.node.defaultChild as CfnResource, 'CKV_AWS_27', `Encrypted with SQS-managed SSE (SqsManagedSseEnabled), which checkov does not count; messages are CloudTrail's STS events as the default event bus already carries them. ${withKey}`);
    }
    skipCheckov(broker.cursorKey.node.defaultChild as CfnResource, 'CKV_AWS_149', `Encrypted with the aws/secretsmanager key; read only by the leases function (secretsmanager:GetSecretValue on this secret alone). ${withKey}`);
    if (isOwnTopic(broker)) skipCheckov(broker.alarmTopic.node.defaultChild as CfnResource, 'CKV_AWS_26', UNENCRYPTED_TOPIC_REASON);
  }

  if (!hasAccessLogs(broker)) {
    skipCheckov(
      broker.auditBucket.node.defaultChild as CfnResource,
      'CKV_AWS_18',
      'Only the audit function writes to this bucket and readers are operators; CloudTrail records both. Pass serverAccessLogsBucket to log every object access (it needs a second bucket, which would itself have no access logs).',
    );
  }
}

function skipCheckov(resource: CfnResource, id: string, comment: string): void {
  const current = (resource.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', { skip: [...current.filter((s) => s.id !== id), { id, comment }] });
}

function ignoreCfnLint(resource: CfnResource, rule: string): void {
  const current = (resource.getMetadata('cfn-lint') as { config?: { ignore_checks?: string[] } } | undefined)?.config?.ignore_checks ?? [];
  resource.addMetadata('cfn-lint', { config: { ignore_checks: [...new Set([...current, rule])] } });
}

/** True when the construct created the alarm topic (an imported or given topic is the caller's to configure). */
function isOwnTopic(broker: Nocreds): boolean {
  return broker.node.tryFindChild('AlarmTopic') === broker.alarmTopic;
}

function hasAccessLogs(broker: Nocreds): boolean {
  const bucket = broker.auditBucket.node.defaultChild as { loggingConfiguration?: unknown };
  return bucket.loggingConfiguration !== undefined;
}

