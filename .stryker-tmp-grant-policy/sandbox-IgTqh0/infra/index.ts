/** The CDK constructs of nocreds, for use in your own app (see docs/deploy.md). */
// @ts-nocheck

export { Nocreds, type NocredsProps, type NocredsCustomDomain, type LogLevel, API_ROUTES, DEFAULT_THROTTLE, DEFAULT_ROUTE_THROTTLE, DEFAULT_RESERVED_CONCURRENCY } from './nocreds';
export { BrokeredRole, BrokeredRoleOptIn, type BrokeredRoleProps, type IBroker } from './brokered-role';
export { NocredsStack, type NocredsStackProps } from './stack';
export { METRICS } from './monitoring';
