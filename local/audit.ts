import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { lambdaContext } from './server';
import { startLocalStack } from './stack';
import { generateCsr } from './workload-csr';

/**
 * `npm run audit:local [-- --out FILE]`: the daily audit job (functions/audit/handler.ts, as
 * deployed) run once against the local stack: moto, the lease table, the local broker. It first
 * makes some leases through the broker (two vends, a certificate, a revocation, a denial), runs
 * the job, which writes its JSON and HTML reports to an S3 bucket in moto, then copies the HTML
 * report to FILE (default reports/audit-local.html, git-ignored) and prints where it is.
 */
const REPO_ROOT = join(__dirname, '..');
const BUCKET = 'nocreds-audit-local';

function outPath(argv: readonly string[]): string {
  const at = argv.indexOf('--out');
  if (at >= 0 && !argv[at + 1]) throw new Error('--out needs a file name, e.g. --out /tmp/audit.html');
  return resolve(at >= 0 ? (argv[at + 1] as string) : join(REPO_ROOT, 'reports', 'audit-local.html'));
}

async function main() {
  const out = outPath(process.argv.slice(2));
  process.env.NOCREDS_LOG_LEVEL ??= 'WARN';
  console.log('Starting moto (AWS emulator), the lease table, a development OIDC issuer and the broker...');
  const stack = await startLocalStack({ brokerPort: 0, issuerPort: 0 });
  try {
    const base = stack.broker.url;
    const call = async (expected: number, token: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      console.log(`  ${method} ${path} -> ${response.status}${typeof answer.leaseId === 'string' ? ` lease ${answer.leaseId}` : ''}${answer.error ? ` ${(answer.error as { code: string }).code}` : ''}`);
      if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status}, not ${expected}: ${JSON.stringify(answer)}`);
      return answer;
    };
    const role = (namespace: string) => `arn:aws:iam::${stack.accountId}:role/${namespace}-app`;
    const teamA = await stack.serviceAccountToken('team-a', 'app');
    const teamB = await stack.serviceAccountToken('team-b', 'web');

    console.log('\nSome activity for the audit to find, through the broker:');
    await call(201, teamA, 'POST', '/v1/credentials', { role: role('team-a') });
    const vendB = await call(201, teamB, 'POST', '/v1/credentials', { role: role('team-b') });
    await call(403, teamA, 'POST', '/v1/credentials', { role: role('team-b') }); // denied: no lease
    const { csr } = await generateCsr({ keyType: 'EC_prime256v1', dns: ['app.team-a.svc.cluster.local'] });
    await call(201, teamA, 'POST', '/v1/certificates', { csr, profile: 'mesh', validitySeconds: 3600 });
    // Revoked while its session is still valid (revocation is off locally): a finding.
    await call(200, teamB, 'POST', `/v1/leases/${String(vendB.leaseId)}/revoke`, {});

    // The job reads its settings at load, as in Lambda: the bucket before the import.
    const s3 = new S3Client({ region: 'us-east-1', endpoint: stack.moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    process.env.NOCREDS_REPORT_BUCKET = BUCKET;
    process.env.NOCREDS_REPORT_PREFIX = 'audit/';
    console.log('\nRunning the audit job (functions/audit/handler.ts) against moto; its metric line follows:');
    const { handler } = (await import('../functions/audit/handler')) as unknown as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    // The audit function's timeout in infra (10 minutes): the job stops reading 30 s before its end.
    await handler({}, lambdaContext('audit', `audit-local-${Date.now()}`, 10 * 60_000));

    const key = 'audit/latest/report.html';
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const html = (await object.Body?.transformToString()) ?? '';
    if (!html.includes('<html')) throw new Error(`The audit job wrote no HTML report at s3://${BUCKET}/${key}.`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, html);
    console.log(`\nThe job wrote s3://${BUCKET}/${key} (in moto); copied to:\naudit report: ${out}`);
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
