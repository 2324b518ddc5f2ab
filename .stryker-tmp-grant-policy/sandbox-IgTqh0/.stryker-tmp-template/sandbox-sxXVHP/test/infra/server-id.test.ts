// @ts-nocheck
// 
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BrokeredRoleOptIn } from '../../infra/brokered-role';
import { Nocreds } from '../../infra/nocreds';
import { CloudFormationResolver, type CfnTemplate } from '../support/cloudformation-resolver';
import { EXAMPLE_GRANTS } from './broker-stacks';

/**
 * Finding 9 of the security review: every deployment had the same default server id (derived from
 * the construct path only), so a GetCallerIdentity proof made for a dev broker was accepted by prod
 * for its 15 minutes. Invariant: two deployments never share a default server id.
 */

interface Deployment {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  /** The UUID CloudFormation draws when it creates the stack. */
  readonly uuid: string;
}

function synth(build: (stack: Stack) => void, env?: { account: string; region: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Nocreds', env ? { env } : {});
  build(stack);
  return { stack, template: Template.fromStack(stack) };
}

function broker(stack: Stack, id = 'Broker'): Nocreds {
  return new Nocreds(stack, id, { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
}

/** What CloudFormation makes of the template's server ids (function environment and output) in one deployment. */
function deployedServerIds(template: Template, d: Deployment): { environment: string[]; output: string } {
  const resolver = new CloudFormationResolver(template.toJSON() as CfnTemplate, {
    account: d.account,
    region: d.region,
    stackName: d.stackName,
    stackId: `arn:aws:cloudformation:${d.region}:${d.account}:stack/${d.stackName}/${d.uuid}`,
  });
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));
  const environment = functions.map((f) => resolver.resolve(f.Properties.Environment.Variables.NOCREDS_SERVER_ID) as string);
  const [output] = Object.entries(template.findOutputs('*')).filter(([name]) => name.includes('ServerId'));
  return { environment, output: resolver.resolve(output![1].Value) as string };
}

const DEV: Deployment = { account: '111122223333', region: 'eu-west-1', stackName: 'Nocreds', uuid: '1c2fa620-982a-11e3-aff7-50e2416294e0' };
const PROD: Deployment = { account: '444455556666', region: 'eu-west-1', stackName: 'Nocreds', uuid: '7d1b7a40-55aa-11ef-9c3e-0a1b2c3d4e5f' };

describe('default server id', () => {
  const agnostic = synth((stack) => broker(stack));

  it('differs between two deployments of the same template (dev and prod), and every function and the output agree on it', () => {
    const dev = deployedServerIds(agnostic.template, DEV);
    const prod = deployedServerIds(agnostic.template, PROD);
    expect(new Set(dev.environment)).toEqual(new Set([dev.output]));
    expect(new Set(prod.environment)).toEqual(new Set([prod.output]));
    expect(dev.output).not.toBe(prod.output);
    expect(dev.output).toBe(`nocreds:111122223333:eu-west-1:Nocreds:Broker:${DEV.uuid}`);
  });

  it('differs for a stack created again with the same account, region and name (the random part)', () => {
    const first = deployedServerIds(agnostic.template, DEV).output;
    const again = deployedServerIds(agnostic.template, { ...DEV, uuid: 'a0b1c2d3-0000-4000-8000-123456789abc' }).output;
    expect(again).not.toBe(first);
  });

  it('differs for two brokers in one stack', () => {
    const { stack, template } = synth((s) => {
      broker(s, 'Dev');
      broker(s, 'Prod');
    });
    const resolver = new CloudFormationResolver(template.toJSON() as CfnTemplate, { account: DEV.account, region: DEV.region, stackName: stack.stackName });
    const ids = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => resolver.resolve(f.Properties.Environment.Variables.NOCREDS_SERVER_ID));
    expect(new Set(ids).size).toBe(2);
  });

  it('is the same on every synth (nothing random at synth time: the template does not change between deploys)', () => {
    const env = { account: DEV.account, region: DEV.region };
    const a = synth((stack) => broker(stack), env).template.toJSON() as CfnTemplate;
    const b = synth((stack) => broker(stack), env).template.toJSON() as CfnTemplate;
    const ids = (t: CfnTemplate) => Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => JSON.stringify((r.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables.NOCREDS_SERVER_ID));
    expect(ids(a)).toEqual(ids(b));
    // Bound to the stack's CloudFormation id, resolved only at deploy.
    expect(ids(a)[0]).toContain('AWS::StackId');
  });

  it('is the one given when serverId is set', () => {
    const { template } = synth((stack) => new Nocreds(stack, 'Broker', { grantPolicyFile: EXAMPLE_GRANTS, brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/'), serverId: 'broker.example.org' }));
    expect(deployedServerIds(template, DEV).output).toBe('broker.example.org');
    expect(deployedServerIds(template, PROD).output).toBe('broker.example.org');
  });
});
