import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Metric, MetricPublisher } from '../ports';
import { logger } from './logger';

const UNITS: Record<Metric['unit'], (typeof MetricUnit)[keyof typeof MetricUnit]> = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds, None: MetricUnit.NoUnit };

/**
 * MetricPublisher in CloudWatch's embedded metric format, built by Powertools Metrics: one JSON
 * line on stdout per call, which Lambda's log pipeline turns into metrics (no PutMetricData call,
 * no extra permission). Exactly the dimensions given (no `service` default), so the alarms' metric
 * identities (infra/monitoring.ts, `Job=audit`) stay what they were.
 */
export class EmfMetricPublisher implements MetricPublisher {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly now: () => Date = () => new Date(),
  ) {}

  publish(namespace: string, metrics: readonly Metric[], dimensions: Readonly<Record<string, string>> = {}): void {
    if (metrics.length === 0) return;
    const emf = new Metrics({ namespace, logger });
    emf.clearDefaultDimensions();
    for (const [name, value] of Object.entries(dimensions)) emf.addDimension(name, value);
    for (const metric of metrics) emf.addMetric(metric.name, UNITS[metric.unit], metric.value);
    emf.setTimestamp(this.now());
    this.write(JSON.stringify(emf.serializeMetrics()));
    emf.clearMetrics();
  }
}
