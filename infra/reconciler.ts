import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CLOUDTRAIL_DETAIL_TYPE, SESSION_EVENT_NAMES, STS_EVENT_SOURCE } from '../shared/domain/cloudtrail-session';
import { DEFAULT_RECONCILE_GRACE_SECONDS, MIN_RECONCILE_GRACE_SECONDS } from '../shared/domain/lease';
import type { BrokerFunction } from './broker-function';
import type { NocredsMonitoring } from './monitoring';

/** SQS delays a message at most 15 minutes. */
const MAX_QUEUE_DELAY_SECONDS = 900;
/** Messages read per invocation; each may take a few DynamoDB and IAM calls. */
const BATCH_SIZE = 5;
/** Deliveries of one message before it goes to the dead-letter queue (a person looks). */
const MAX_RECEIVES = 5;

export interface SessionReconcilerProps {
  /** The broker's reconciler function (BROKER_FUNCTIONS.reconciler). */
  readonly function: BrokerFunction;
  readonly table: dynamodb.ITable;
  /** The broker's roles that call sts:AssumeRole to vend (NocredsProps' VendingRoleArns). */
  readonly brokerRoles: readonly iam.IRole[];
  /** The revoker role in each opted-in account, when revocation is on. @default - none (sessions are recorded, not blocked) */
  readonly revokerRoleArns?: readonly string[];
  readonly monitoring: NocredsMonitoring;
  readonly encryptionKey?: kms.IKey;
  /**
   * How long after STS issued a session the reconciler looks for its lease: the queue's delivery
   * delay, and the function's own check. Longer than any broker function may take to write a lease.
   * @default Duration.seconds(120)
   */
  readonly gracePeriod?: Duration;
}

/**
 * The CloudTrail reconciler's wiring:
 *
 *   STS AssumeRole* (CloudTrail) -> default event bus -> rule -> SQS queue (delay = grace period)
 *     -> reconciler function (partial batch failures) ; failures after 5 deliveries -> dead-letter
 *     queue -> alarm
 *
 * The rule is on the default bus, where AWS services send their events, in the broker's Region:
 * CloudTrail delivers an STS event in the Region of the STS endpoint called, and the broker's SDK
 * calls the regional one. It needs a CloudTrail trail with logging enabled in the account (an
 * organization trail counts), and it receives AssumeRole, which CloudTrail marks read-only, because
 * its state is `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`. Failed calls (`errorCode`) are
 * filtered out by the rule. Sessions obtained in other accounts are seen here only when their
 * events reach this bus (the broker's own calls always do: they are made from this account).
 *
 * The function may: read and write single items of the lease table (no query, no delete), assume
 * the revoker roles (when revocation is on), consume its queue. Nothing else.
 */
export class SessionReconciler extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SessionReconcilerProps) {
    super(scope, id);
    const grace = props.gracePeriod ?? Duration.seconds(DEFAULT_RECONCILE_GRACE_SECONDS);
    if (grace.toSeconds() < MIN_RECONCILE_GRACE_SECONDS || grace.toSeconds() > MAX_QUEUE_DELAY_SECONDS) {
      throw new Error(`nocreds: the reconciler's grace period must be ${MIN_RECONCILE_GRACE_SECONDS}-${MAX_QUEUE_DELAY_SECONDS} seconds (longer than a lease write may take, at most SQS's delay); got ${grace.toSeconds()}`);
    }
    const key = props.encryptionKey;
    const encryption = key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const fn = props.function;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', { ...encryption, enforceSSL: true, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'Events', {
      ...encryption,
      enforceSSL: true,
      deliveryDelay: grace,
      // AWS's advice for an SQS event source: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(6 * fn.function.timeout!.toSeconds()),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });

    this.rule = new events.Rule(this, 'AssumeRoleEvents', {
      description: 'nocreds: STS sessions (CloudTrail), checked against the lease table after a grace period',
      eventPattern: {
        source: [STS_EVENT_SOURCE],
        detailType: [CLOUDTRAIL_DETAIL_TYPE],
        detail: { eventSource: ['sts.amazonaws.com'], eventName: [...SESSION_EVENT_NAMES], errorCode: [{ exists: false }] },
      },
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
    // AssumeRole is a read-only management event: a plain ENABLED rule may not receive it.
    (this.rule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

    fn.function.addEventSource(new SqsEventSource(this.queue, { batchSize: BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: 2 }));
    fn.function.addEnvironment('NOCREDS_BROKER_ROLE_ARNS', props.brokerRoles.map((r) => r.roleArn).join(','));
    fn.function.addEnvironment('NOCREDS_RECONCILE_GRACE_SECONDS', String(grace.toSeconds()));

    // Single items only: it reads a lease by id, creates one conditionally, updates one conditionally.
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [props.table.tableArn] }));
    if (props.revokerRoleArns && props.revokerRoleArns.length > 0) {
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...props.revokerRoleArns] }));
    }
    if (key) key.grantEncryptDecrypt(fn.role);

    const depth = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' });
    props.monitoring.addAlarm('ReconcilerDeadLetters', depth, { threshold: 1, datapoints: 1, periods: 1 }, {
      means: 'A CloudTrail STS event could not be reconciled after 5 deliveries (or EventBridge could not deliver it): a session may exist that no lease records and that was not blocked.',
      check: "the reconciler function's log for \"session event not reconciled\" (an event shape it cannot read, DynamoDB or IAM failing), then redrive the dead-letter queue to the reconciler queue once fixed.",
    });
  }
}
