// @ts-nocheck
import type { Metric, MetricPublisher } from '../ports';

/**
 * MetricPublisher in CloudWatch's embedded metric format: one JSON line on stdout per call, which
 * Lambda's log pipeline turns into metrics (no PutMetricData call, no extra permission).
 */
export class EmfMetricPublisher implements MetricPublisher {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly now: () => Date = () => new Date(),
  ) {}

  publish(namespace: string, metrics: readonly Metric[], dimensions: Readonly<Record<string, string>> = {}): void {
    if (metrics.length === 0) return;
    const line = {
      _aws: {
        Timestamp: this.now().getTime(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [Object.keys(dimensions)],
            Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
          },
        ],
      },
      ...dimensions,
      ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
    };
    this.write(JSON.stringify(line));
  }
}
