import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * X.509 on Node: @peculiar/x509 needs reflect-metadata loaded first and Node's WebCrypto as its
 * provider. Importing this module does both. The broker's own modules reach it through
 * `x509Library()` in ./certificate, which loads it on first use (see there); tests and local tools
 * may import it directly.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
