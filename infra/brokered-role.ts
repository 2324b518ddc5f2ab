import { Arn, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The three actions a broker needs on a role it vends (AssumeRole with session tags and SourceIdentity). */
export const VENDING_ACTIONS = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] as const;

/** The marker a role carries to say "the broker may vend me". */
export type OptInMarker = { readonly kind: 'path'; readonly path: string } | { readonly kind: 'tag'; readonly key: string; readonly value: string };

/**
 * How roles opt in to being vended. The broker's own IAM policy names only opted-in roles, so a
 * role is vendable only when BOTH its owner trusts the broker (trust policy) AND it carries the
 * marker; a grant-policy mistake can never reach a role that did not opt in.
 *
 * @example
 * BrokeredRoleOptIn.byPath('/nocreds/')                          // roles under /nocreds/
 * BrokeredRoleOptIn.byTag('nocreds:brokered', 'true', { accounts: ['111122223333'] })
 */
export class BrokeredRoleOptIn {
  /**
   * Roles whose path starts with `path` opt in. The path is part of the role ARN, so the broker's
   * policy needs no condition, and only principals allowed `iam:CreateRole` on that path can opt in.
   */
  static byPath(path: string, options: { accounts?: string[] } = {}): BrokeredRoleOptIn {
    if (!/^\/([\w+=,.@-]+\/)+$/.test(path) || path.length > 512) {
      throw new Error(`nocreds: an opt-in path looks like /nocreds/ (begins and ends with "/", at most 512 characters); got "${path}"`);
    }
    return new BrokeredRoleOptIn({ kind: 'path', path }, options.accounts);
  }

  /**
   * Roles tagged `key=value` opt in (condition `aws:ResourceTag/key`). Whoever may `iam:TagRole`
   * can opt a role in, so restrict that action on the key (e.g. with an SCP) in accounts that use it.
   */
  static byTag(key: string, value: string, options: { accounts?: string[] } = {}): BrokeredRoleOptIn {
    if (!/^[\w.:/=+@ -]{1,128}$/.test(key) || value.length > 256) {
      throw new Error(`nocreds: an opt-in tag key is 1-128 characters of letters, digits and _.:/=+-@ and its value at most 256; got "${key}"`);
    }
    return new BrokeredRoleOptIn({ kind: 'tag', key, value }, options.accounts);
  }

  private constructor(
    readonly marker: OptInMarker,
    /** Accounts whose roles may be vended; default: the broker's own account. */
    readonly accounts: readonly string[] | undefined,
  ) {
    for (const account of accounts ?? []) {
      if (!/^\d{12}$/.test(account)) throw new Error(`nocreds: an account id is 12 digits; got "${account}"`);
    }
  }

  /** ARNs (possibly with a trailing wildcard) of the roles that opted in, in `scope`'s partition. */
  roleArns(scope: Construct): string[] {
    const stack = Stack.of(scope);
    const accounts = this.accounts && this.accounts.length > 0 ? this.accounts : [stack.account];
    const resourceName = this.marker.kind === 'path' ? `${this.marker.path.slice(1)}*` : '*';
    return accounts.map((account) => Arn.format({ service: 'iam', region: '', account, resource: 'role', resourceName }, stack));
  }

  /** The condition that narrows `roleArns` to opted-in roles (none for a path: the ARN says it). */
  condition(): Record<string, Record<string, string>> | undefined {
    return this.marker.kind === 'tag' ? { StringEquals: { [`aws:ResourceTag/${this.marker.key}`]: this.marker.value } } : undefined;
  }

  /** A policy statement allowing `actions` on opted-in roles only. */
  statement(scope: Construct, actions: readonly string[]): iam.PolicyStatement {
    const condition = this.condition();
    return new iam.PolicyStatement({ actions: [...actions], resources: this.roleArns(scope), ...(condition ? { conditions: condition } : {}) });
  }

  /**
   * Statements denying `actions` on every role that did not opt in. The allow above is not enough
   * for STS: in the broker's own account, a role whose trust policy names a broker role's ARN
   * (as the VendingRoleArns output invites) may be assumed with no identity-policy allow at all,
   * so without this deny a grant-policy mistake could reach a role that never opted in.
   */
  denyOthers(scope: Construct, actions: readonly string[]): iam.PolicyStatement[] {
    const roleArns = this.roleArns(scope);
    const outsideAccounts = new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: [...actions], notResources: roleArns });
    if (this.marker.kind === 'path') return [outsideAccounts];
    // StringNotEquals is also true when the role has no such tag.
    const untagged = new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...actions],
      resources: roleArns,
      conditions: { StringNotEquals: { [`aws:ResourceTag/${this.marker.key}`]: this.marker.value } },
    });
    return [outsideAccounts, untagged];
  }
}

/** What a role needs to know about a broker to trust it. `Nocreds` is one. */
export interface IBroker {
  /** The roles of the functions that call sts:AssumeRole (vending and renewal). */
  readonly vendingRoles: readonly iam.IRole[];
  readonly optIn: BrokeredRoleOptIn;
}

export interface BrokeredRoleProps extends Omit<iam.RoleProps, 'assumedBy' | 'path'> {
  /**
   * The broker that may vend this role. For a broker in another account or app, pass
   * `{ vendingRoles: [iam.Role.fromRoleArn(this, 'Broker', '<VendingRoleArns output>')], optIn }`.
   */
  readonly broker: IBroker;
}

/**
 * A role the broker may vend: its trust policy lets the broker's vending roles call
 * sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity (the broker always sets session tags
 * and SourceIdentity, so without the last two every AssumeRole would be denied), and it carries
 * the broker's opt-in marker (path or tag).
 *
 * @example
 * const deployer = new BrokeredRole(this, 'Deployer', {
 *   broker,
 *   roleName: 'ci-deployer',
 *   managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
 * });
 */
export class BrokeredRole extends iam.Role {
  constructor(scope: Construct, id: string, props: BrokeredRoleProps) {
    const { broker, ...roleProps } = props;
    if (broker.vendingRoles.length === 0) throw new Error('nocreds: a BrokeredRole needs at least one broker vending role to trust');
    const marker = broker.optIn.marker;
    super(scope, id, {
      ...roleProps,
      ...(marker.kind === 'path' ? { path: marker.path } : {}),
      assumedBy: new VendingRolesPrincipal(...broker.vendingRoles.map((role) => new iam.ArnPrincipal(role.roleArn))),
    });
    if (marker.kind === 'tag') Tags.of(this).add(marker.key, marker.value);
  }
}

/** Trusts the broker's roles with all three vending actions in one statement. */
class VendingRolesPrincipal extends iam.CompositePrincipal {
  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(new iam.PolicyStatement({ actions: [...VENDING_ACTIONS], principals: this.principals }));
  }
}
