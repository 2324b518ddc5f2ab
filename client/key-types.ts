/** The key types the client can make (`--key-type`); apart from key-and-csr.ts so naming them loads no crypto library. */
export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type ClientKeyType = (typeof KEY_TYPES)[number];
