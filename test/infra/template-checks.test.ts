import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BROKER_FUNCTION_NAMES, PROJECT_ROOT } from '../../infra/broker-function';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { Nocreds } from '../../infra/nocreds';
import { ACCOUNT, EXAMPLE_GRANTS, cdkJsonContext, synthBrokers } from './broker-stacks';

/**
 * The synthesized templates checked by the tools operators and security reviews run on
 * CloudFormation: cfn-lint and checkov, pinned and installed by scripts/setup-lint.sh (`npm test`
 * runs it). Zero findings, and every finding left on purpose is suppressed in the template with its
 * reason (infra/nag-suppressions.ts, suppressTemplateCheckFindings). One synthesis per file.
 */
const VENV = join(PROJECT_ROOT, '.venv-lint', 'bin');
const dir = mkdtempSync(join(tmpdir(), 'nocreds-template-checks-'));
const { minimal, full } = synthBrokers();
// A third shape: no reserved concurrency (a new account), the construct's own topic with an email.
const bareStack = new Stack(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), 'Bare', { env: { account: ACCOUNT, region: 'eu-west-1' } });
new Nocreds(bareStack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), reservedConcurrency: false, alarmEmails: ['oncall@example.org'] });
const templates = Object.entries({ minimal: minimal.template, full: full.template, bare: Template.fromStack(bareStack) }).map(([name, template]) => {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));
  return file;
});

function tool(name: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const bin = join(VENV, name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup-lint.sh (npm test does)`);
  return spawnSync(bin, args, { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' } });
}

interface CheckovCheck {
  check_id: string;
  check_name: string;
  resource: string;
  file_path: string;
  check_result: { result: string; suppress_comment?: string };
}
interface CheckovReport {
  summary: { passed: number; failed: number; skipped: number };
  results: { passed_checks: CheckovCheck[]; failed_checks: CheckovCheck[]; skipped_checks: CheckovCheck[] };
}

describe('template checks operators run', () => {
  it('cfn-lint: no errors, no warnings', () => {
    // The bare template differs from minimal by a subscription and a property: not worth cfn-lint's time.
    const run = tool('cfn-lint', ['--format', 'json', ...templates.filter((t) => !t.endsWith('bare.json'))]);
    const findings = JSON.parse(run.stdout || '[]') as { Rule: { Id: string }; Message: string; Filename: string }[];
    expect(findings.map((f) => `${f.Rule.Id} ${f.Filename.replace(`${dir}/`, '')}: ${f.Message}`)).toEqual([]);
    expect(run.status).toBe(0);
  }, 180_000);

  it('checkov: no failed check, and every skipped one carries its reason', () => {
    const run = tool('checkov', ['--framework', 'cloudformation', '--skip-download', '--output', 'json', ...templates.flatMap((t) => ['-f', t])]);
    const parsed = JSON.parse(run.stdout) as CheckovReport | CheckovReport[];
    const report = Array.isArray(parsed) ? parsed.find((r) => 'results' in r)! : parsed;
    expect(report.results.failed_checks.map((c) => `${c.check_id} ${c.resource} (${c.file_path}): ${c.check_name}`)).toEqual([]);
    expect(report.summary.passed).toBeGreaterThan(300);
    const unexplained = report.results.skipped_checks.filter((c) => (c.check_result.suppress_comment ?? '').length < 40);
    expect(unexplained.map((c) => `${c.check_id} ${c.resource}`)).toEqual([]);
    // What the props fix is suppressed only while the prop is unset: with a key, no encryption skips.
    const fullSkips = report.results.skipped_checks.filter((c) => c.file_path.endsWith('full.json')).map((c) => c.check_id);
    expect(fullSkips.filter((id) => ['CKV_AWS_158', 'CKV_AWS_119', 'CKV_AWS_27', 'CKV_AWS_149', 'CKV_AWS_173', 'CKV_AWS_26', 'CKV_AWS_18', 'CKV_AWS_115'].includes(id))).toEqual([]);
    const bareSkips = report.results.skipped_checks.filter((c) => c.file_path.endsWith('bare.json')).map((c) => c.check_id);
    expect(bareSkips.filter((id) => id === 'CKV_AWS_115')).toHaveLength(BROKER_FUNCTION_NAMES.length);
    expect(run.status).toBe(0);
  }, 180_000);
});
