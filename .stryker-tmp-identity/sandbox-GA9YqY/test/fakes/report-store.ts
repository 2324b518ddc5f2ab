// @ts-nocheck
import type { Metric, MetricPublisher, ReportStore } from '../../shared/ports';

/** A ReportStore in memory: `objects` maps each key to its body and content type. */
export class InMemoryReportStore implements ReportStore {
  readonly objects = new Map<string, { body: string; contentType: string }>();

  async put(key: string, body: string, contentType: string): Promise<{ location: string }> {
    this.objects.set(key, { body, contentType });
    return { location: `memory://${key}` };
  }

  body(key: string): string | undefined {
    return this.objects.get(key)?.body;
  }
}

/** A MetricPublisher that keeps every metric with its namespace and dimensions; `value(name)` sums one. */
export class RecordingMetricPublisher implements MetricPublisher {
  readonly published: Array<{ namespace: string; metric: Metric; dimensions: Readonly<Record<string, string>> }> = [];

  publish(namespace: string, metrics: readonly Metric[], dimensions: Readonly<Record<string, string>> = {}): void {
    for (const metric of metrics) this.published.push({ namespace, metric: { ...metric }, dimensions: { ...dimensions } });
  }

  value(name: string): number | undefined {
    const found = this.published.filter((p) => p.metric.name === name);
    return found.length === 0 ? undefined : found.reduce((sum, p) => sum + p.metric.value, 0);
  }
}
