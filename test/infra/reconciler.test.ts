import { App, Duration, Stack } from 'aws-cdk-lib';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { Nocreds } from '../../infra/nocreds';
import { SessionReconciler } from '../../infra/reconciler';
import { ACCOUNT, OTHER_ACCOUNT, EXAMPLE_GRANTS, actionsOf, cdkJsonContext, logicalId, statementsOf, synthBrokers, type BrokerStack } from './broker-stacks';

/**
 * The CloudTrail reconciler's wiring (infra/reconciler.ts): STS events from the default bus, held
 * in a queue for the grace period, read by the reconciler function with partial batch failures;
 * what cannot be reconciled reaches a dead-letter queue that alarms. cdk-nag runs on both stacks in
 * test/infra/nocreds.test.ts, checkov and cfn-lint in template-checks.test.ts.
 */
const { minimal, full } = synthBrokers();
const ref = (b: BrokerStack, construct: unknown) => logicalId(b.stack, construct);
const arnOf = (b: BrokerStack, construct: unknown) => ({ 'Fn::GetAtt': [ref(b, construct), 'Arn'] });

test('a rule on the default bus takes the successful AssumeRole and AssumeRoleWithWebIdentity events, read-only management events included', () => {
  const rules = Object.values(minimal.template.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.sts'));
  expect(rules).toHaveLength(1);
  const rule = rules[0]!.Properties;
  expect(rule.EventBusName).toBeUndefined();
  expect(rule.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
  expect(rule.EventPattern).toEqual({
    source: ['aws.sts'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['sts.amazonaws.com'], eventName: ['AssumeRole', 'AssumeRoleWithWebIdentity'], errorCode: [{ exists: false }] },
  });
  expect(rule.Targets).toEqual([
    expect.objectContaining({
      Arn: arnOf(minimal, minimal.broker.reconciler.queue),
      DeadLetterConfig: { Arn: arnOf(minimal, minimal.broker.reconciler.deadLetterQueue) },
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
    }),
  ]);
});

test('the queue holds each event for the grace period, then redrives to the dead-letter queue after 5 failed deliveries; both encrypted, TLS only', () => {
  const queue = minimal.template.findResources('AWS::SQS::Queue')[ref(minimal, minimal.broker.reconciler.queue)]!.Properties;
  expect(queue).toMatchObject({
    DelaySeconds: 120,
    // Six times the function's 60 s timeout, as AWS advises for an SQS event source.
    VisibilityTimeout: 360,
    RedrivePolicy: { deadLetterTargetArn: arnOf(minimal, minimal.broker.reconciler.deadLetterQueue), maxReceiveCount: 5 },
    SqsManagedSseEnabled: true,
  });
  const dlq = minimal.template.findResources('AWS::SQS::Queue')[ref(minimal, minimal.broker.reconciler.deadLetterQueue)]!.Properties;
  expect(dlq).toMatchObject({ MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true });
  for (const b of [minimal, full]) {
    for (const q of [b.broker.reconciler.queue, b.broker.reconciler.deadLetterQueue]) {
      const policies = Object.values(b.template.findResources('AWS::SQS::QueuePolicy')).filter((p) => JSON.stringify(p.Properties.Queues).includes(ref(b, q)));
      expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
    }
  }
  const kmsQueue = full.template.findResources('AWS::SQS::Queue')[ref(full, full.broker.reconciler.queue)]!.Properties;
  expect(kmsQueue.KmsMasterKeyId).toEqual(arnOf(full, full.broker.encryptionKey));
});

test('the reconciler function reads the queue in batches of 5, at most 2 at a time, reporting failures item by item', () => {
  minimal.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    EventSourceArn: arnOf(minimal, minimal.broker.reconciler.queue),
    FunctionName: { Ref: ref(minimal, minimal.broker.functions.reconciler.function) },
    BatchSize: 5,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    ScalingConfig: { MaximumConcurrency: 2 },
  });
  const fn = minimal.template.findResources('AWS::Lambda::Function')[ref(minimal, minimal.broker.functions.reconciler.function)]!.Properties;
  expect(fn.ReservedConcurrentExecutions).toBe(2);
  expect(fn.Environment.Variables).toMatchObject({
    NOCREDS_BROKER_ROLE_ARNS: { 'Fn::Join': ['', [arnOf(minimal, minimal.broker.functions.credentials.role), ',', arnOf(minimal, minimal.broker.functions.leases.role)]] },
    NOCREDS_RECONCILE_GRACE_SECONDS: '120',
    NOCREDS_REVOCATION_ENABLED: 'false',
  });
  expect(fn.Environment.Variables.NOCREDS_CURSOR_KEY).toBeUndefined();
});

test('least privilege: single lease items, its queue, its logs; with revocation, the revoker roles; never STS on brokered roles', () => {
  const allows = (b: BrokerStack) => statementsOf(b.template, ref(b, b.broker.functions.reconciler.role)).filter((s) => s.Effect === 'Allow');
  expect(actionsOf(allows(minimal))).toEqual(
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].sort(),
  );
  const dynamo = allows(minimal).find((s) => actionsOf([s]).includes('dynamodb:PutItem'))!;
  expect(dynamo.Resource).toEqual(arnOf(minimal, minimal.broker.table));
  const sqs = allows(minimal).find((s) => actionsOf([s]).includes('sqs:ReceiveMessage'))!;
  expect(sqs.Resource).toEqual(arnOf(minimal, minimal.broker.reconciler.queue));

  const revokers = [ACCOUNT, OTHER_ACCOUNT].map((account) => `arn:aws:iam::${account}:role/nocreds-revoker/nocreds-session-revoker`);
  expect(allows(full).filter((s) => actionsOf([s]).some((a) => a.startsWith('sts:')))).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: revokers }]);
  expect(actionsOf(allows(full)).filter((a) => a.startsWith('iam:'))).toEqual([]);
  // Its own roles are off limits, as for every function that may call STS.
  const denies = statementsOf(full.template, ref(full, full.broker.functions.reconciler.role)).filter((s) => s.Effect === 'Deny');
  expect(actionsOf(denies)).toEqual(expect.arrayContaining(['sts:AssumeRole', 'iam:PutRolePolicy']));
});

test('the dead-letter queue alarms on its first message, with a runbook line', () => {
  const alarms = Object.values(minimal.template.findResources('AWS::CloudWatch::Alarm')).filter((a) => String(a.Properties.AlarmDescription).startsWith('nocreds ReconcilerDeadLetters:'));
  expect(alarms).toHaveLength(1);
  const alarm = alarms[0]!.Properties;
  expect(alarm).toMatchObject({
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Namespace: 'AWS/SQS',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ref(minimal, minimal.broker.reconciler.deadLetterQueue), 'QueueName'] } }],
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: ref(minimal, minimal.broker.alarmTopic) }],
    OKActions: [{ Ref: ref(minimal, minimal.broker.alarmTopic) }],
  });
  expect(alarm.AlarmDescription).toMatch(/First check: the reconciler function's log/);
});

test('a grace period SQS cannot delay, or shorter than a lease write may take, fails the synth', () => {
  const stack = new Stack(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), 'Grace', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const broker = new Nocreds(stack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
  const props = { function: broker.functions.reconciler, table: broker.table, brokerRoles: broker.vendingRoles, monitoring: broker.monitoring };
  expect(() => new SessionReconciler(stack, 'Short', { ...props, gracePeriod: Duration.seconds(30) })).toThrow(/60-900 seconds/);
  expect(() => new SessionReconciler(stack, 'Long', { ...props, gracePeriod: Duration.minutes(20) })).toThrow(/60-900 seconds/);
});
