/** The CDK constructs of nocreds, for use in your own app (see docs/deploy.md). */
export { Nocreds, type NocredsProps, type LogLevel, API_ROUTES } from './nocreds';
export { BrokeredRole, BrokeredRoleOptIn, type BrokeredRoleProps, type IBroker } from './brokered-role';
export { NocredsStack, type NocredsStackProps } from './stack';
export { METRICS } from './monitoring';
