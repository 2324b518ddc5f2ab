// @ts-nocheck
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { parse as parseYaml } from 'yaml';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { GRANT_POLICY_FILE_NAME, stageGrantPolicy } from '../../infra/grant-policy-asset';
import { Nocreds } from '../../infra/nocreds';
import { NocredsStack, stackPropsFromContext } from '../../infra/stack';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { PROJECT_ROOT } from '../../infra/broker-function';
import { CA_ARN, EXAMPLE_GRANTS, SECOND_CA_ARN } from './broker-stacks';

/** What `cdk synth` refuses, before anything is bundled or deployed. */
function brokerWith(grantPolicyFile: string, extra: Partial<ConstructorParameters<typeof Nocreds>[2]> = {}): () => Nocreds {
  const stack = new Stack(new App(), 'Checks', { env: { account: '111122223333', region: 'eu-west-1' } });
  return () => new Nocreds(stack, 'Broker', { grantPolicyFile, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), ...extra });
}

function writePolicy(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nocreds-policy-')), 'grants.yaml');
  writeFileSync(file, text);
  return file;
}

describe('grant policy at synth time', () => {
  it('ships the example policy as grants.json, which the functions parse to the same policy', () => {
    const staged = stageGrantPolicy(EXAMPLE_GRANTS);
    expect(basename(staged.jsonFile)).toBe(GRANT_POLICY_FILE_NAME);
    const shipped = readFileSync(staged.jsonFile, 'utf8');
    expect(JSON.parse(shipped)).toEqual(parseYaml(readFileSync(EXAMPLE_GRANTS, 'utf8')));
    expect(parseGrantPolicy(shipped, 'grants.json')).toEqual(staged.policy);
    expect(staged.certificateAuthorityArns).toEqual([CA_ARN]);
  });

  it('fails the synth on an invalid policy, naming the file, line and path', () => {
    const file = writePolicy(['version: 1', 'rules:', '  - id: broken', '    callers:', '      - iam: "arn:aws:iam::111122223333:user/*"', '    credentials:', '      roles: ["not-a-role-arn"]', ''].join('\n'));
    expect(brokerWith(file)).toThrow(/grants\.yaml:7 rules\[0\]\.credentials\.roles\[0\]: a role pattern must look like/);
  });

  it('`cdk synth` on a bad policy prints file:line path and the problem, without a stack trace, and fails', () => {
    const file = writePolicy(['version: 1', 'rules:', '  - id: broken', '    callers:', '      - iam: "arn:aws:iam::111122223333:user/*"', '    credentials:', '      roles: ["not-a-role-arn"]', ''].join('\n'));
    // The CLI operators run, with cdk.json's app command; the policy fails before anything is bundled.
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--no-notices', '-c', `grants=${file}`, '-o', mkdtempSync(join(tmpdir(), 'nocreds-out-'))], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('nocreds: The grant policy is invalid:\ngrants.yaml:7 rules[0].credentials.roles[0]: a role pattern must look like arn:aws:iam::ACCOUNT:role/NAME\n');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toMatch(/ConfigurationError|node:internal/);
  }, 60_000);

  it('fails the synth on a policy that is not YAML', () => {
    const file = writePolicy('version: 1\nrules: [\n  - oops: {\n');
    expect(brokerWith(file)).toThrow(/not valid YAML or JSON/);
  });

  it('fails the synth when the policy file is missing', () => {
    expect(brokerWith(join(dirname(EXAMPLE_GRANTS), 'no-such-grants.yaml'))).toThrow(/cannot read the grant policy file .*no-such-grants\.yaml/);
  });

  it('fails the synth when configured CAs leave out a CA the policy names', () => {
    expect(brokerWith(EXAMPLE_GRANTS, { certificateAuthorityArns: [SECOND_CA_ARN] })).toThrow(`names CAs missing from certificateAuthorityArns (issuance from them would be denied): ${CA_ARN}`);
  });
});

describe('feature flags', () => {
  it('cdk.json sets every flag aws-cdk-lib recommends, to the recommended value (what `cdk init` writes)', () => {
    const context = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
    // When aws-cdk-lib is upgraded, new flags show up here: read each one and set it (`npx cdk flags --unstable=flags`).
    const differing = Object.entries(CURRENTLY_RECOMMENDED_FLAGS).filter(([flag, value]) => JSON.stringify(context[flag]) !== JSON.stringify(value));
    expect(differing.map(([flag]) => flag)).toEqual([]);
  });
});

describe('opt-in markers', () => {
  it.each(['nocreds/', '/nocreds', '/', '/a b/'])('refuses the path %p', (path) => {
    expect(() => BrokeredRoleOptIn.byPath(path)).toThrow(/opt-in path looks like \/nocreds\//);
  });

  it('refuses a malformed account id and an empty tag key', () => {
    expect(() => BrokeredRoleOptIn.byPath('/nocreds/', { accounts: ['1234'] })).toThrow(/account id is 12 digits/);
    expect(() => BrokeredRoleOptIn.byTag('', 'true')).toThrow(/opt-in tag key/);
  });
});

describe('the ready stack reads its settings from context', () => {
  it('defaults to the example policy, path opt-in /nocreds/ in the stack account, and a ci-deployer role', () => {
    const props = stackPropsFromContext({});
    expect(props.broker.grantPolicyFile).toBe(EXAMPLE_GRANTS);
    expect(props.broker.brokeredRoles.marker).toEqual({ kind: 'path', path: '/nocreds/' });
    expect(props.broker.brokeredRoles.accounts).toEqual([]);
    expect(props.broker.credentialRevocation).toBe(false);
    expect(props.broker.certificateAuthorityArns).toBeUndefined();
    expect(props.brokeredRoleNames).toEqual(['ci-deployer']);
  });

  it('takes a tag opt-in, accounts, CAs, revocation and roles as -c values', () => {
    const props = stackPropsFromContext({
      optInTag: 'nocreds:brokered=yes=really',
      accounts: '111122223333, 444455556666',
      certificateAuthorityArns: `${CA_ARN},${SECOND_CA_ARN}`,
      credentialRevocation: 'true',
      brokeredRoles: '',
      logLevel: 'DEBUG',
    });
    expect(props.broker.brokeredRoles.marker).toEqual({ kind: 'tag', key: 'nocreds:brokered', value: 'yes=really' });
    expect(props.broker.brokeredRoles.accounts).toEqual(['111122223333', '444455556666']);
    expect(props.broker.certificateAuthorityArns).toEqual([CA_ARN, SECOND_CA_ARN]);
    expect(props.broker.credentialRevocation).toBe(true);
    expect(props.broker.logLevel).toBe('DEBUG');
    expect(props.brokeredRoleNames).toEqual([]);
  });

  it('refuses a tag without a value and an unknown log level', () => {
    expect(() => stackPropsFromContext({ optInTag: 'nocreds:brokered' })).toThrow(/optInTag must be key=value/);
    expect(() => stackPropsFromContext({ logLevel: 'LOUD' })).toThrow(/logLevel is DEBUG, INFO, WARN or ERROR/);
  });

  it('subscribes -c alarmEmail addresses to the alarm topic, and takes reservedConcurrency=false and tracing=true', () => {
    const props = stackPropsFromContext({ alarmEmail: 'oncall@example.org, secops@example.org', reservedConcurrency: 'false', tracing: 'true' });
    expect(props.broker.alarmEmails).toEqual(['oncall@example.org', 'secops@example.org']);
    expect(props.broker.reservedConcurrency).toBe(false);
    expect(props.broker.tracing).toBe(true);
    const defaults = stackPropsFromContext({});
    expect(defaults.broker.alarmEmails).toBeUndefined();
    expect(defaults.broker.reservedConcurrency).toBeUndefined();
    expect(defaults.broker.tracing).toBe(false);
    expect(() => stackPropsFromContext({ alarmEmail: 'oncall@example.org,pager' })).toThrow('nocreds: alarmEmail is a comma-separated list of email addresses; "pager" is not one');
    expect(() => stackPropsFromContext({ tracing: 'yes' })).toThrow('nocreds: tracing is true or false; got "yes"');
  });

  it('points every alarm at an existing topic given as -c alarmTopicArn', () => {
    const arn = 'arn:aws:sns:eu-west-1:111122223333:pager';
    const props = stackPropsFromContext({ alarmTopicArn: arn, brokeredRoles: '' });
    expect(props.alarmTopicArn).toBe(arn);
    const stack = new NocredsStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Ready', { ...props, env: { account: '111122223333', region: 'eu-west-1' } });
    expect(stack.broker.alarmTopic.topicArn).toBe(arn);
    expect(stack.broker.monitoring.alarms.every((alarm) => JSON.stringify(stack.resolve((alarm.node.defaultChild as CfnAlarm).alarmActions)) === JSON.stringify([arn]))).toBe(true);
    expect(() => stackPropsFromContext({ alarmTopicArn: 'pager' })).toThrow('nocreds: alarmTopicArn must be an SNS topic ARN');
  });

  it('refuses concurrency settings Lambda would refuse or that would switch a function off', () => {
    expect(brokerWith(EXAMPLE_GRANTS, { reservedConcurrency: { whoami: 0 } })).toThrow('nocreds: reservedConcurrency.whoami must be a whole number of at least 1');
    expect(brokerWith(EXAMPLE_GRANTS, { vendingProvisionedConcurrency: 150 })).toThrow("nocreds: vendingProvisionedConcurrency (150) cannot exceed the credentials function's reserved concurrency (100)");
  });
});
