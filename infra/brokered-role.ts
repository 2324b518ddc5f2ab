import { Arn, CfnJson, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { BrokerWebIdentity } from './issuer';

/** The three actions a broker needs on a role it vends (AssumeRole with session tags and SourceIdentity). */
export const VENDING_ACTIONS = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] as const;

/** Issuer mode: what a role's trust policy allows the broker's OIDC provider (tags and SourceIdentity come as token claims). */
export const WEB_IDENTITY_ACTIONS = ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'] as const;

/** What blocking a revoked session needs on its role (see shared/adapters/iam-session-revoker.ts): the revoker role's only permissions. */
export const REVOCATION_ACTIONS = ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'] as const;

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

  /** The accounts whose roles may opt in (the broker's own by default). */
  accountsOf(scope: Construct): string[] {
    return this.accounts && this.accounts.length > 0 ? [...this.accounts] : [Stack.of(scope).account];
  }

  /** ARNs (possibly with a trailing wildcard) of the roles that opted in, in `scope`'s partition (in `accounts`, by default all opted-in accounts). */
  roleArns(scope: Construct, accounts: readonly string[] = this.accountsOf(scope)): string[] {
    const stack = Stack.of(scope);
    const resourceName = this.marker.kind === 'path' ? `${this.marker.path.slice(1)}*` : '*';
    return accounts.map((account) => Arn.format({ service: 'iam', region: '', account, resource: 'role', resourceName }, stack));
  }

  /** The condition that narrows `roleArns` to opted-in roles (none for a path: the ARN says it). */
  condition(): Record<string, Record<string, string>> | undefined {
    return this.marker.kind === 'tag' ? { StringEquals: { [`aws:ResourceTag/${this.marker.key}`]: this.marker.value } } : undefined;
  }

  /** A policy statement allowing `actions` on opted-in roles only (in `accounts`, by default all opted-in accounts). */
  statement(scope: Construct, actions: readonly string[], accounts?: readonly string[]): iam.PolicyStatement {
    const condition = this.condition();
    return new iam.PolicyStatement({ actions: [...actions], resources: this.roleArns(scope, accounts), ...(condition ? { conditions: condition } : {}) });
  }

  /**
   * Statements denying `actions` on every role that did not opt in. The allow above is not enough
   * for STS: in the broker's own account, a role whose trust policy names a broker role's ARN
   * (as the VendingRoleArns output invites) may be assumed with no identity-policy allow at all,
   * so without this deny a grant-policy mistake could reach a role that never opted in.
   * `except`: exact role ARNs left out of the deny (the revoker roles the lease function assumes;
   * their trust policies allow sts:AssumeRole alone, so no vending call, which always tags the
   * session, can reach them).
   */
  denyOthers(scope: Construct, actions: readonly string[], except: readonly string[] = []): iam.PolicyStatement[] {
    const roleArns = this.roleArns(scope);
    const outsideAccounts = new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: [...actions], notResources: [...roleArns, ...except] });
    if (this.marker.kind === 'path') return [outsideAccounts];
    // StringNotEquals is also true when the role has no such tag.
    const untagged = new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...actions],
      ...(except.length > 0 ? { notResources: [...except] } : { resources: roleArns }),
      conditions: { StringNotEquals: { [`aws:ResourceTag/${this.marker.key}`]: this.marker.value } },
    });
    return [outsideAccounts, untagged];
  }
}

/** How a broker blocks revoked sessions in a brokered role's account. */
export interface BrokerRevocation {
  /** The broker's roles that assume the revoker role (its lease and renewal functions). */
  readonly roles: readonly iam.IRole[];
  /** The revoker role's path and name in every account (see DEFAULT_REVOKER_ROLE_NAME). */
  readonly revokerRoleName: string;
  /**
   * The broker's own roles (every function's): the revoker role may never write on them, even
   * if someone tags one with the opt-in marker (a function could otherwise widen itself through it).
   */
  readonly brokerRoles?: readonly iam.IRole[];
}

/** What a role needs to know about a broker to trust it. `Nocreds` is one. */
export interface IBroker {
  /** The roles of the functions that call sts:AssumeRole (vending and renewal). */
  readonly vendingRoles: readonly iam.IRole[];
  readonly optIn: BrokeredRoleOptIn;
  /** Set when the broker blocks revoked sessions (credentialRevocation); absent, no revoker role is made. */
  readonly revocation?: BrokerRevocation;
  /**
   * Set when the broker is an OIDC issuer (issuer mode). For a broker in another account, pass the
   * OIDC provider of its `IssuerUrl` output made in this account, e.g.
   * `{ provider: new iam.OidcProviderNative(this, 'Nocreds', { url, clientIds: ['sts.amazonaws.com'] }), issuerHost: 'nocreds.example.org', audience: 'sts.amazonaws.com' }`.
   */
  readonly webIdentity?: BrokerWebIdentity;
}

export interface BrokeredRoleProps extends Omit<iam.RoleProps, 'assumedBy' | 'path'> {
  /**
   * The broker that may vend this role. For a broker in another account or app, pass
   * `{ vendingRoles: [iam.Role.fromRoleArn(this, 'Broker', '<VendingRoleArns output>')], optIn }`,
   * and, when it revokes sessions, `revocation: { roles: [<RevocationRoleArns output>], revokerRoleName }`.
   */
  readonly broker: IBroker;
  /**
   * Create the account's revoker role (one per stack, shared by its BrokeredRoles) when the broker
   * revokes sessions. Turn off in all but one stack per account: its name is fixed, so two stacks
   * in one account cannot both create it. @default true
   */
  readonly revokerRole?: boolean;
  /**
   * Issuer mode: the callers that may reach this role through the broker's web identity tokens, as
   * IAM `StringLike` patterns on the token's `sub` (the caller as the broker names it, e.g.
   * `k8s:system:serviceaccount:team-a:*`). The trust policy then allows the broker's OIDC provider
   * sts:AssumeRoleWithWebIdentity, sts:TagSession and sts:SetSourceIdentity when `aud` is the
   * broker's audience and `sub` matches: the role itself says who may have it, and CloudTrail
   * shows each caller. Needs a broker with an issuer (`broker.webIdentity`).
   */
  readonly webIdentityCallers?: string[];
  /**
   * Also trust the broker's vending roles with sts:AssumeRole (grant rules with `via: assume-role`).
   * @default - true without `webIdentityCallers`, false with them (a role reached only through its own sub conditions)
   */
  readonly assumeRoleTrust?: boolean;
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
    const { broker, revokerRole, webIdentityCallers, assumeRoleTrust, ...roleProps } = props;
    const webIdentity = webIdentityCallers !== undefined;
    const assumeRole = assumeRoleTrust ?? !webIdentity;
    if (webIdentity && !broker.webIdentity) throw new Error('nocreds: webIdentityCallers needs a broker with an issuer (grant rules with via: web-identity, or the issuer prop)');
    if (webIdentity && (webIdentityCallers.length === 0 || webIdentityCallers.some((p) => p.length === 0))) {
      throw new Error('nocreds: webIdentityCallers lists at least one non-empty sub pattern (e.g. k8s:system:serviceaccount:team-a:*)');
    }
    if (!assumeRole && !webIdentity) throw new Error('nocreds: a BrokeredRole trusts the broker with assumeRoleTrust, webIdentityCallers, or both');
    if (assumeRole && broker.vendingRoles.length === 0) throw new Error('nocreds: a BrokeredRole needs at least one broker vending role to trust');
    const marker = broker.optIn.marker;
    const principals: iam.IPrincipal[] = [];
    if (assumeRole) principals.push(new VendingRolesPrincipal(...broker.vendingRoles.map((role) => new iam.ArnPrincipal(role.roleArn))));
    if (webIdentity && broker.webIdentity) principals.push(new BrokerWebIdentityPrincipal(scope, id, broker.webIdentity, webIdentityCallers));
    super(scope, id, {
      ...roleProps,
      ...(marker.kind === 'path' ? { path: marker.path } : {}),
      assumedBy: principals.length === 1 ? (principals[0] as iam.IPrincipal) : new iam.CompositePrincipal(...principals),
    });
    if (marker.kind === 'tag') Tags.of(this).add(marker.key, marker.value);
    if (broker.revocation && revokerRole !== false) SessionRevokerRole.of(Stack.of(this), broker);
  }
}

/**
 * The role a broker assumes to block revoked sessions of brokered roles in this account: IAM
 * writes go to the account of the caller's credentials, so the broker can write a deny on a role
 * only with credentials of that role's account. Made by `BrokeredRole` (one per stack); make one
 * yourself in an account whose vendable roles were not made with BrokeredRole.
 *
 * - trust: the broker's lease and renewal function roles, sts:AssumeRole only (vending always
 *   tags the session, so no vending call can assume it);
 * - path and name: `revokerRoleName` (default nocreds-revoker/nocreds-session-revoker), outside any
 *   opt-in path and untagged, so the broker can never vend it;
 * - may: iam:GetRole, ListRolePolicies, GetRolePolicy, PutRolePolicy, DeleteRolePolicy on the
 *   opted-in roles of this account only; never on itself. IAM has no condition on an inline
 *   policy's name or content, so "only the nocreds deny policies" is the broker's code, not IAM.
 *
 * @example
 * new SessionRevokerRole(this, 'Revoker', { broker }); // in an account with hand-made opted-in roles
 */
export class SessionRevokerRole extends iam.Role {
  /** The stack's revoker role, made on first use. */
  static of(stack: Stack, broker: IBroker): SessionRevokerRole {
    const existing = stack.node.tryFindChild(REVOKER_ROLE_ID);
    return existing instanceof SessionRevokerRole ? existing : new SessionRevokerRole(stack, REVOKER_ROLE_ID, { broker });
  }

  constructor(scope: Construct, id: string, props: { broker: IBroker }) {
    const revocation = props.broker.revocation;
    if (!revocation || revocation.roles.length === 0) throw new Error('nocreds: a SessionRevokerRole needs a broker with credentialRevocation (its lease and renewal roles to trust)');
    const { path, name } = splitRoleName(revocation.revokerRoleName);
    super(scope, id, {
      roleName: name,
      path,
      description: 'nocreds: lets the broker block revoked sessions of brokered roles in this account (deny policies only)',
      assumedBy: new iam.CompositePrincipal(...revocation.roles.map((role) => new iam.ArnPrincipal(role.roleArn))),
    });
    const account = Stack.of(this).account;
    this.addToPolicy(props.broker.optIn.statement(this, REVOCATION_ACTIONS, [account]));
    // Tagging it, or a broker role, with the opt-in marker must not let it rewrite itself or the broker.
    const neverWritten = [this.roleArn, ...[...revocation.roles, ...(revocation.brokerRoles ?? [])].map((role) => role.roleArn)];
    this.addToPolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: [...REVOCATION_ACTIONS], resources: [...new Set(neverWritten)] }));
    // Here rather than in nag-suppressions.ts: this role lives in the brokered roles' stacks, often without a broker.
    const optInArns = props.broker.optIn.roleArns(this, [account]).map((arn) => `Resource::${renderArnForNag(Stack.of(this).resolve(arn))}`);
    NagSuppressions.addResourceSuppressions(
      this,
      [{ id: 'AwsSolutions-IAM5', reason: 'The revoker role may write deny policies on exactly the opted-in roles of its account: a path prefix or role/* with the opt-in tag condition is how IAM names them.', appliesTo: optInArns }],
      true,
    );
  }
}

const REVOKER_ROLE_ID = 'NocredsSessionRevoker';

/** `nocreds-revoker/nocreds-session-revoker` -> path `/nocreds-revoker/`, name `nocreds-session-revoker`. */
export function splitRoleName(pathAndName: string): { path: string; name: string } {
  const cut = pathAndName.lastIndexOf('/');
  const path = cut < 0 ? '/' : `/${pathAndName.slice(0, cut + 1)}`;
  const name = pathAndName.slice(cut + 1);
  if (!/^[\w+=,.@-]{1,64}$/.test(name) || !/^\/([\w+=,.@-]+\/)*$/.test(path)) {
    throw new Error(`nocreds: a revoker role name is [path/]name, e.g. nocreds-revoker/nocreds-session-revoker; got "${pathAndName}"`);
  }
  return { path, name };
}

/** Trusts the broker's roles with all three vending actions in one statement. */
class VendingRolesPrincipal extends iam.CompositePrincipal {
  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(new iam.PolicyStatement({ actions: [...VENDING_ACTIONS], principals: this.principals }));
  }
}

/**
 * Trusts the broker's OIDC provider with the web-identity actions, for tokens with the broker's
 * `aud` and a `sub` matching one of the patterns. The condition keys are named after the issuer
 * (`<host/path>:aud`); when that is a deploy-time value (the API's own URL), CfnJson resolves them.
 */
class BrokerWebIdentityPrincipal extends iam.FederatedPrincipal {
  constructor(
    private readonly scope: Construct,
    private readonly roleId: string,
    private readonly trust: BrokerWebIdentity,
    private readonly subjects: readonly string[],
  ) {
    super(trust.provider.oidcProviderArn, {}, 'sts:AssumeRoleWithWebIdentity');
  }

  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    const key = (claim: string) => `${this.trust.issuerHost}:${claim}`;
    const keyed = (claim: string, value: unknown): unknown => {
      const plain = { [key(claim)]: value };
      return Token.isUnresolved(this.trust.issuerHost) ? new CfnJson(this.scope, `${this.roleId}WebIdentity${claim}`, { value: plain }) : plain;
    };
    document.addStatements(
      new iam.PolicyStatement({
        actions: [...WEB_IDENTITY_ACTIONS],
        principals: [new iam.FederatedPrincipal(this.trust.provider.oidcProviderArn)],
        conditions: { StringEquals: keyed('aud', this.trust.audience), StringLike: keyed('sub', [...this.subjects]) },
      }),
    );
  }
}

/** cdk-nag's rendering of a resolved value: intrinsics become `<LogicalId.Attr>` and `<AWS::Pseudo>`. */
export function renderArnForNag(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(renderArnForNag).join(separator);
    }
  }
  return JSON.stringify(value);
}
