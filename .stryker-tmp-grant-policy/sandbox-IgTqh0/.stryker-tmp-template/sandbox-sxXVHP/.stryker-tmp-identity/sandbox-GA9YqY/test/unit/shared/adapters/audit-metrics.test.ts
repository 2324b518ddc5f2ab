// @ts-nocheck
// 
// 
import { EmfMetricPublisher } from '../../../../shared/adapters/emf-metric-publisher';

test('writes one CloudWatch embedded-metric-format line that names each metric, its unit and the dimensions', () => {
  const lines: string[] = [];
  const publisher = new EmfMetricPublisher((line) => lines.push(line), () => new Date('2030-01-15T12:00:00Z'));
  publisher.publish(
    'nocreds',
    [
      { name: 'LeasesStuckPending', value: 3, unit: 'Count' },
      { name: 'ActiveLeases', value: 12, unit: 'Count' },
    ],
    { Job: 'audit' },
  );
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0] as string)).toEqual({
    _aws: {
      Timestamp: Date.parse('2030-01-15T12:00:00Z'),
      CloudWatchMetrics: [{ Namespace: 'nocreds', Dimensions: [['Job']], Metrics: [{ Name: 'LeasesStuckPending', Unit: 'Count' }, { Name: 'ActiveLeases', Unit: 'Count' }] }],
    },
    Job: 'audit',
    LeasesStuckPending: 3,
    ActiveLeases: 12,
  });
});

test('writes nothing for no metrics', () => {
  const lines: string[] = [];
  new EmfMetricPublisher((line) => lines.push(line)).publish('nocreds', []);
  expect(lines).toEqual([]);
});
