import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REQUEST_METRICS } from '../shared/http/request-metrics';
import { METRIC_NAMESPACE } from '../shared/use-cases/run-audit';
import type { BrokerFunction, BrokerFunctionName } from './broker-function';

/**
 * The metrics the alarms and dashboard read beyond AWS's own, and where each comes from. Nothing
 * here is invented: every one is derived from what the code logs or publishes today.
 * - From the functions' structured logs: the HTTP edge logs every rejection's `code` and every
 *   server fault's `error.code` (`sts_throttled`, `role_trust_denied`, `pca_unavailable`, ...);
 *   the handlers log a lease write that failed after STS or Private CA answered (LEASE_WRITE_FAILURE_MESSAGES).
 * - From the API functions' embedded-metric-format line per request (REQUEST_METRICS,
 *   shared/http/request-metrics.ts, dimension service=nocreds, Powertools Metrics): vends, session
 *   reuse hits and misses, certificates issued, denials and failures (also by dimension Code),
 *   latency per dependency (STS, PCA, DynamoDB), and Powertools' ColdStart (per function_name).
 * - From the audit job's embedded-metric-format findings (shared/use-cases/run-audit.ts, dimension Job=audit).
 */
export const METRICS = {
  namespace: METRIC_NAMESPACE,
  stsThrottled: 'StsThrottled',
  stsFailures: 'StsFailures',
  pcaThrottled: 'PcaThrottled',
  pcaFailures: 'PcaFailures',
  leaseWriteFailures: 'LeaseWriteFailures',
  vends: REQUEST_METRICS.vends,
  reuseHits: REQUEST_METRICS.reuseHits,
  reuseMisses: REQUEST_METRICS.reuseMisses,
  denials: REQUEST_METRICS.denials,
  failures: REQUEST_METRICS.failures,
  certificatesIssued: REQUEST_METRICS.certificatesIssued,
  requestDimensions: REQUEST_METRICS.dimensions,
  /** Audit findings, published once per run with dimension Job=audit. */
  leasesStuckPending: 'LeasesStuckPending',
  leasesNoLongerAllowed: 'LeasesNoLongerAllowed',
  certificatesExpiringSoon: 'CertificatesExpiringSoon',
  activeLeases: 'ActiveLeases',
  auditDimensions: { Job: 'audit' },
} as const;

/**
 * What the handlers log when a lease write fails after STS or Private CA answered (functions/<name>/handler.ts,
 * `onLeaseWriteFailure`). test/infra/nocreds.test.ts checks these strings are still in the handlers.
 */
export const LEASE_WRITE_FAILURE_MESSAGES = ['lease left pending after a failure', 'certificate lease left pending after a failure', 'lease write failed during renewal'] as const;

/** Functions whose logs may carry STS, PCA or lease-write failures. */
const STS_CALLERS: readonly BrokerFunctionName[] = ['credentials', 'leases'];
const PCA_CALLERS: readonly BrokerFunctionName[] = ['certificates', 'leases', 'renewal'];
const LEASE_WRITERS: readonly BrokerFunctionName[] = ['credentials', 'certificates', 'leases', 'renewal'];
/** Functions behind the APIs (the scheduled ones report through the dead-letter queue). */
const API_FUNCTIONS: readonly BrokerFunctionName[] = ['credentials', 'whoami', 'certificates', 'leases'];

export interface NocredsMonitoringProps {
  readonly functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>;
  readonly apis: { readonly api: apigw.HttpApi; readonly iamApi: apigw.HttpApi };
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  /** Every alarm notifies it, on ALARM and on OK. */
  readonly alarmTopic: sns.ITopic;
}

/** When an alarm fires: at least `threshold` in `datapoints` of the last `periods` evaluation periods. */
export interface AlarmRule {
  readonly threshold: number;
  readonly datapoints: number;
  readonly periods: number;
}

/** A sustained problem, not one event: 3 of the last 5 five-minute periods (15 of 25 minutes). */
const SUSTAINED: Omit<AlarmRule, 'threshold'> = { datapoints: 3, periods: 5 };
/** One datapoint is the problem (a failed scheduled run, a daily audit finding). */
const ONCE: Omit<AlarmRule, 'threshold'> = { datapoints: 1, periods: 1 };

/**
 * Alarms that mean something, each notifying the alarm topic with a one-line runbook in its
 * description (what it means, the first thing to check), and one dashboard.
 *
 * Rates, not counts, where there is a denominator: a function's error rate is errors / invocations,
 * an API's 5xx rate is 5xx / requests, each over 3 of 5 five-minute periods, so one bad request
 * at night does not page anyone but a quarter hour of failures does.
 */
export class NocredsMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: NocredsMonitoringProps) {
    super(scope, id);
    this.topic = props.alarmTopic;
    const five = Duration.minutes(5);
    const fns = props.functions;
    const functions = Object.entries(fns) as [BrokerFunctionName, BrokerFunction][];

    for (const name of [...API_FUNCTIONS, 'renewal'] as const) {
      const fn = fns[name].function;
      const errorRate = new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
        usingMetrics: { errors: fn.metricErrors({ period: five, statistic: 'Sum' }), invocations: fn.metricInvocations({ period: five, statistic: 'Sum' }) },
        period: five,
        label: `${name} error rate (%)`,
      });
      this.alarm(`${name}ErrorRate`, errorRate, { threshold: 5, ...SUSTAINED }, {
        means: `At least 5% of ${name} invocations failed in Lambda (an unhandled error, a timeout, a crash at start-up) in 3 of the last 5 five-minute periods; bad input never counts here (it is a 4xx).`,
        check: `the ${name} function's log group for ERROR lines and Lambda's "Task timed out"; a recent deploy or grant policy change.`,
      });
    }
    for (const name of API_FUNCTIONS) {
      const fn = fns[name].function;
      const throttleRate = new cloudwatch.MathExpression({
        expression: 'IF(invocations + throttles > 0, 100 * throttles / (invocations + throttles), 0)',
        usingMetrics: { throttles: fn.metricThrottles({ period: five, statistic: 'Sum' }), invocations: fn.metricInvocations({ period: five, statistic: 'Sum' }) },
        period: five,
        label: `${name} throttle rate (%)`,
      });
      this.alarm(`${name}Throttles`, throttleRate, { threshold: 1, ...SUSTAINED }, {
        means: `Lambda refused at least 1% of ${name} invocations for lack of concurrency, in 3 of the last 5 five-minute periods; callers got 5xx.`,
        check: `the dashboard's concurrent executions against the function's reserved concurrency (reservedConcurrency prop) and the account's concurrency quota.`,
      });
    }

    for (const [key, api] of Object.entries(props.apis)) {
      const serverErrorRate = new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors: api.metricServerError({ period: five, statistic: 'Sum' }), requests: api.metricCount({ period: five, statistic: 'Sum' }) },
        period: five,
        label: `${key} 5xx rate (%)`,
      });
      this.alarm(`${key}ServerErrorRate`, serverErrorRate, { threshold: 1, ...SUSTAINED }, {
        means: `At least 1% of ${key} requests answered 5xx in 3 of the last 5 five-minute periods: workloads are not getting credentials or certificates (the broker fails closed).`,
        check: `the STS, PCA and lease-write alarms beside this one, then the functions' "request failed" log lines (error.code says which dependency: sts_*, pca_*, dynamodb_*, issuer_unavailable).`,
      });
    }

    // Codes from mapSdkError('STS' | 'PCA', ...) and the adapters' own (shared/adapters/sdk-errors.ts, sts-role-assumer.ts, pca-certificate-authority.ts).
    const stsThrottled = this.codeMetric(fns, STS_CALLERS, METRICS.stsThrottled, ['sts_throttled']);
    const stsFailures = this.codeMetric(fns, STS_CALLERS, METRICS.stsFailures, ['sts_unavailable', 'role_trust_denied']);
    const pcaThrottled = this.codeMetric(fns, PCA_CALLERS, METRICS.pcaThrottled, ['pca_throttled']);
    const pcaFailures = this.codeMetric(fns, PCA_CALLERS, METRICS.pcaFailures, ['pca_unavailable', 'ca_not_found', 'ca_not_active']);
    this.alarm('StsThrottled', stsThrottled, { threshold: 10, ...SUSTAINED }, {
      means: 'STS throttled the broker (10 or more AssumeRole calls per five minutes answered 503 sts_throttled) in 3 of the last 5 periods.',
      check: "the account's STS request rate (about 600 calls/s per account and Region, shared with everything else in it) and which callers vend with fresh: true; lower the API throttle.",
    });
    this.alarm('StsFailures', stsFailures, { threshold: 5, ...SUSTAINED }, {
      means: 'STS was unavailable or refused to let the broker assume a role (sts_unavailable, role_trust_denied), 5 or more times per five minutes in 3 of the last 5 periods.',
      check: "the credentials function's log for the role ARNs involved: a role whose trust policy lost the broker's VendingRoleArns, or an STS outage on the AWS Health dashboard.",
    });
    this.alarm('PcaThrottled', pcaThrottled, { threshold: 5, ...SUSTAINED }, {
      means: 'AWS Private CA throttled the broker (pca_throttled) 5 or more times per five minutes in 3 of the last 5 periods.',
      check: "issuance rate against Private CA's quotas (about 25 IssueCertificate/s per CA); the POST /v1/certificates route throttle (routeThrottle prop).",
    });
    this.alarm('PcaFailures', pcaFailures, { threshold: 1, ...SUSTAINED }, {
      means: 'AWS Private CA was unavailable, or a CA named in the grant policy is missing or not active (pca_unavailable, ca_not_found, ca_not_active), in 3 of the last 5 five-minute periods: certificates are not being issued or renewed.',
      check: 'the CA status in the Private CA console (expired, disabled, deleted?) for the CA ARN in the log line.',
    });

    const leaseWriteFailures = this.logMetric(fns, LEASE_WRITERS, METRICS.leaseWriteFailures, logs.FilterPattern.any(...LEASE_WRITE_FAILURE_MESSAGES.map((m) => logs.FilterPattern.stringValue('$.message', '=', m))));
    this.alarm('LeaseWriteFailures', leaseWriteFailures, { threshold: 1, datapoints: 2, periods: 3 }, {
      means: 'Writing a lease failed after STS or Private CA answered, in 2 of the last 3 five-minute periods: the credentials were withheld but a session or certificate exists with its lease left pending.',
      check: 'the lease table (throttled requests on the dashboard, DynamoDB health); the renewal job settles such leases and the audit reports any it could not.',
    });

    const audit = (metricName: string) =>
      new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: { ...METRICS.auditDimensions }, period: Duration.days(1), statistic: 'Maximum' });
    // Published once per daily audit run: a one-day period keeps the alarm in ALARM until the next run finds none.
    this.alarm('LeasesStuckPending', audit(METRICS.leasesStuckPending), { threshold: 1, ...ONCE }, {
      means: 'The daily audit found leases stuck pending past their deadline: a credential or certificate may exist without an active lease.',
      check: 'the audit report (latest/report.html in the audit bucket), section "Leases stuck pending"; the renewal function log for why it could not settle them.',
    });
    this.alarm('LeasesNoLongerAllowed', audit(METRICS.leasesNoLongerAllowed), { threshold: 1, ...ONCE }, {
      means: 'The daily audit found active leases the current grant policy would no longer grant (a rule was narrowed or removed after they were issued).',
      check: 'the audit report, section "Leases the grant policy would no longer allow"; revoke them (POST /v1/leases/{id}/revoke) if the change was meant to cut access now.',
    });
    this.alarm('CertificatesExpiringSoon', audit(METRICS.certificatesExpiringSoon), { threshold: 1, ...ONCE }, {
      means: 'The daily audit found certificates close to expiry with no renewal: workloads using them will fail mTLS when they expire.',
      check: 'the audit report, section "Certificates expiring soon with no renewal"; the renewal function log ("certificate not auto-renewed") for the reason.',
    });

    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' });
    this.alarm('DeadLetters', deadLetters, { threshold: 1, ...ONCE }, {
      means: 'A scheduled renewal or audit run failed after all its retries; each message is one lost run.',
      check: 'the message in the dead-letter queue (which function, the error), then that function\'s log at that time; the next run continues where the last stopped.',
    });

    // The API functions' own metrics, one EMF line per request (REQUEST_METRICS).
    const request = (metricName: string, statistic = 'Sum', label: string = metricName) =>
      new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: { ...METRICS.requestDimensions }, period: five, statistic, label });
    const vends = request(METRICS.vends);
    const denials = request(METRICS.denials);
    const certificatesIssued = request(METRICS.certificatesIssued);
    const byCode = (metricName: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS.namespace},${REQUEST_METRICS.codeDimension},service} MetricName="${metricName}"', 'Sum', 300)`,
        usingMetrics: {},
        period: five,
        label: `${metricName} by code`,
      });
    const reuseRate = new cloudwatch.MathExpression({
      expression: 'IF(hits + misses > 0, 100 * hits / (hits + misses), 0)',
      usingMetrics: { hits: request(METRICS.reuseHits), misses: request(METRICS.reuseMisses) },
      period: five,
      label: 'session reuse rate (%)',
    });
    const latency = Object.entries(REQUEST_METRICS.latency).flatMap(([dependency, metricName]) =>
      ['p50', 'p99'].map((statistic) => request(metricName, statistic, `${dependency} ${statistic}`)),
    );
    const coldStarts = new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS.namespace},function_name,service} MetricName="${REQUEST_METRICS.coldStart}"', 'Sum', 300)`,
      usingMetrics: {},
      period: five,
      label: 'cold starts',
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    const apis = Object.values(props.apis);
    const perFunction = (metric: (fn: BrokerFunction, name: BrokerFunctionName) => cloudwatch.IMetric) => functions.map(([name, fn]) => metric(fn, name));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Vends, denials, certificates issued', width: 8, left: [vends, denials], right: [certificatesIssued] }),
      new cloudwatch.GraphWidget({ title: 'API requests and 5xx', width: 8, left: apis.map((api) => api.metricCount({ period: five, statistic: 'Sum', label: `${api.node.id} requests` })), right: apis.map((api) => api.metricServerError({ period: five, statistic: 'Sum', label: `${api.node.id} 5xx` })) }),
      new cloudwatch.GraphWidget({
        title: 'API latency p50 / p99',
        width: 8,
        left: apis.flatMap((api) => ['p50', 'p99'].map((statistic) => api.metricLatency({ period: five, statistic, label: `${api.node.id} ${statistic}` }))),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Function duration p50', width: 8, left: perFunction((fn, name) => fn.function.metricDuration({ period: five, statistic: 'p50', label: name })) }),
      new cloudwatch.GraphWidget({ title: 'Function duration p99', width: 8, left: perFunction((fn, name) => fn.function.metricDuration({ period: five, statistic: 'p99', label: name })) }),
      new cloudwatch.GraphWidget({
        title: 'Function errors, throttles',
        width: 8,
        left: perFunction((fn, name) => fn.function.metricErrors({ period: five, label: `${name} errors` })),
        right: perFunction((fn, name) => fn.function.metricThrottles({ period: five, label: `${name} throttles` })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'STS and Private CA: throttled, failed', width: 8, left: [stsThrottled, stsFailures, pcaThrottled, pcaFailures] }),
      new cloudwatch.GraphWidget({ title: 'Lease writes failed, table throttles, dead letters', width: 8, left: [leaseWriteFailures, props.table.metricThrottledRequestsForOperations({ period: five })], right: [deadLetters] }),
      new cloudwatch.GraphWidget({
        title: 'Audit (daily)',
        width: 8,
        left: [METRICS.activeLeases].map(audit),
        right: [METRICS.leasesStuckPending, METRICS.leasesNoLongerAllowed, METRICS.certificatesExpiringSoon].map(audit),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Denials by code', width: 8, left: [byCode(METRICS.denials)] }),
      new cloudwatch.GraphWidget({ title: 'Session reuse rate (%)', width: 8, left: [reuseRate], leftYAxis: { min: 0, max: 100 } }),
      new cloudwatch.GraphWidget({ title: 'AWS call latency p50 / p99 (ms, retries included)', width: 8, left: latency }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Failures by code', width: 8, left: [byCode(METRICS.failures)] }),
      new cloudwatch.GraphWidget({ title: 'Cold starts', width: 8, left: [coldStarts] }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Concurrent executions', width: 8, left: perFunction((fn, name) => fn.function.metric('ConcurrentExecutions', { period: five, statistic: 'Maximum', label: name })) }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 16, alarms: this.alarms }),
    );
  }

  /** An alarm with this construct's conventions (topic on ALARM and OK, runbook line), for parts wired elsewhere (infra/reconciler.ts). */
  addAlarm(id: string, metric: cloudwatch.IMetric, rule: AlarmRule, runbook: { means: string; check: string }): void {
    this.alarm(id, metric, rule, runbook);
  }

  private alarm(id: string, metric: cloudwatch.IMetric, rule: AlarmRule, runbook: { means: string; check: string }): void {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric,
      threshold: rule.threshold,
      evaluationPeriods: rule.periods,
      datapointsToAlarm: rule.datapoints,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing happened: no requests, no errors, no findings.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `nocreds ${id}: ${runbook.means} First check: ${runbook.check}`,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  /** Counts log lines whose `code` (a rejection) or `error.code` (a server fault, as Powertools logs it) is one of `codes`. */
  private codeMetric(functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>, names: readonly BrokerFunctionName[], metricName: string, codes: string[]): cloudwatch.Metric {
    const pattern = logs.FilterPattern.any(...codes.flatMap((code) => [logs.FilterPattern.stringValue('$.code', '=', code), logs.FilterPattern.stringValue('$.error.code', '=', code)]));
    return this.logMetric(functions, names, metricName, pattern);
  }

  private logMetric(functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>, names: readonly BrokerFunctionName[], metricName: string, pattern: logs.IFilterPattern): cloudwatch.Metric {
    for (const name of names) {
      new logs.MetricFilter(this, `${metricName}${name}`, { logGroup: functions[name].logGroup, filterPattern: pattern, metricNamespace: METRICS.namespace, metricName, metricValue: '1' });
    }
    return new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, period: Duration.minutes(5), statistic: 'Sum' });
  }
}
