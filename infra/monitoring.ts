import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../shared/use-cases/run-audit';
import type { BrokerFunction, BrokerFunctionName } from './broker-function';

/**
 * The metrics the alarms watch beyond AWS's own. STS and PCA failures are counted from the
 * functions' structured logs (the HTTP edge logs every rejection's `code`, and every server
 * fault's `error.code`, e.g. `sts_throttled`, `role_trust_denied`, `pca_unavailable`); stuck leases
 * come from the audit job's embedded-metric-format findings (shared/use-cases/run-audit.ts).
 */
export const METRICS = {
  namespace: METRIC_NAMESPACE,
  stsFailures: 'StsFailures',
  pcaFailures: 'PcaFailures',
  /** Leases left `pending` past their deadline, published by the audit job with dimension Job=audit. */
  leasesStuckPending: 'LeasesStuckPending',
  auditDimensions: { Job: 'audit' },
} as const;

/** Functions whose logs may carry STS or PCA failures. */
const STS_CALLERS: readonly BrokerFunctionName[] = ['credentials', 'leases'];
const PCA_CALLERS: readonly BrokerFunctionName[] = ['certificates', 'leases', 'renewal'];

export interface NocredsMonitoringProps {
  readonly functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>;
  readonly apis: { readonly api: apigw.HttpApi; readonly iamApi: apigw.HttpApi };
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly alarmTopic?: sns.ITopic;
}

/** Alarms (function errors and throttles, STS and PCA failures, stuck leases, dead letters, API 5xx) and one dashboard. */
export class NocredsMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: NocredsMonitoringProps) {
    super(scope, id);
    const five = Duration.minutes(5);
    const functions = Object.entries(props.functions) as [BrokerFunctionName, BrokerFunction][];

    for (const [name, fn] of functions) {
      this.alarm(`${name}Errors`, fn.function.metricErrors({ period: five, statistic: 'Sum' }), `The ${name} function failed (unhandled error, timeout or crash at start-up).`);
      this.alarm(`${name}Throttles`, fn.function.metricThrottles({ period: five, statistic: 'Sum' }), `The ${name} function was throttled by Lambda.`);
    }

    // Codes from mapSdkError('STS' | 'PCA', ...) and the adapters' own (shared/adapters/sts-role-assumer.ts, pca-certificate-authority.ts).
    const stsFailures = this.logMetric(props.functions, STS_CALLERS, METRICS.stsFailures, ['sts_*', 'role_trust_denied']);
    const pcaFailures = this.logMetric(props.functions, PCA_CALLERS, METRICS.pcaFailures, ['pca_*', 'ca_not_found', 'ca_not_active']);
    this.alarm('StsFailures', stsFailures, 'STS refused or failed AssumeRole calls (throttling, a trust policy, an outage).');
    this.alarm('PcaFailures', pcaFailures, 'AWS Private CA refused or failed calls (throttling, permissions, an outage).');

    // Published once per audit run: an hour's period alarms once per run that finds any.
    const stuckPending = new cloudwatch.Metric({
      namespace: METRICS.namespace,
      metricName: METRICS.leasesStuckPending,
      dimensionsMap: { ...METRICS.auditDimensions },
      period: Duration.hours(1),
      statistic: 'Maximum',
    });
    this.alarm('LeasesStuckPending', stuckPending, 'Leases are stuck pending: a credential or certificate may have been issued without its lease becoming active.');

    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' });
    this.alarm('DeadLetters', deadLetters, 'A scheduled renewal or audit run failed after its retries; see the dead-letter queue.');

    for (const [key, api] of Object.entries(props.apis)) {
      this.alarm(`${key}ServerErrors`, api.metricServerError({ period: five, statistic: 'Sum' }), `The ${key} HTTP API answered 5xx.`);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    const apiMetric = (title: string, metric: (api: apigw.HttpApi) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({ title, width: 8, left: Object.values(props.apis).map(metric) });
    this.dashboard.addWidgets(
      apiMetric('API requests', (api) => api.metricCount({ period: five, statistic: 'Sum', label: api.node.id })),
      apiMetric('API 4xx / 5xx', (api) => api.metricClientError({ period: five, statistic: 'Sum', label: `${api.node.id} 4xx` })),
      apiMetric('API latency p99', (api) => api.metricLatency({ period: five, statistic: 'p99', label: api.node.id })),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Function errors', width: 8, left: functions.map(([name, fn]) => fn.function.metricErrors({ period: five, label: name })) }),
      new cloudwatch.GraphWidget({ title: 'Function duration p99', width: 8, left: functions.map(([name, fn]) => fn.function.metricDuration({ period: five, statistic: 'p99', label: name })) }),
      new cloudwatch.GraphWidget({ title: 'Function throttles', width: 8, left: functions.map(([name, fn]) => fn.function.metricThrottles({ period: five, label: name })) }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'STS and PCA failures', width: 8, left: [stsFailures, pcaFailures] }),
      new cloudwatch.GraphWidget({ title: 'Leases stuck pending, dead letters', width: 8, left: [stuckPending], right: [deadLetters] }),
      new cloudwatch.GraphWidget({ title: 'Lease table throttled requests', width: 8, left: [props.table.metricThrottledRequestsForOperations({ period: five })] }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }));
    if (props.alarmTopic) this.notify(props.alarmTopic);
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string): void {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing happened: no errors, no stuck leases.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `nocreds: ${description}`,
    });
    this.alarms.push(alarm);
  }

  private logMetric(functions: Readonly<Record<BrokerFunctionName, BrokerFunction>>, names: readonly BrokerFunctionName[], metricName: string, codes: string[]): cloudwatch.Metric {
    // Rejections log `code`; server faults log the error, whose `code` Powertools puts under `error`.
    const pattern = logs.FilterPattern.any(...codes.flatMap((code) => [logs.FilterPattern.stringValue('$.code', '=', code), logs.FilterPattern.stringValue('$.error.code', '=', code)]));
    for (const name of names) {
      new logs.MetricFilter(this, `${metricName}${name}`, { logGroup: functions[name].logGroup, filterPattern: pattern, metricNamespace: METRICS.namespace, metricName, metricValue: '1' });
    }
    return new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, period: Duration.minutes(5), statistic: 'Sum' });
  }

  /** Sends every alarm to `topic`. */
  notify(topic: sns.ITopic): void {
    for (const alarm of this.alarms) alarm.addAlarmAction(new SnsAction(topic));
  }
}
