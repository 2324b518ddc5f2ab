// @ts-nocheck
import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * The schemas use `zod/mini` because it tree-shakes: the Lambda bundles carry only the validators
 * they use, not all of zod. Unlike classic zod, `zod/mini` registers no locale, so without this
 * every message would be a bare "Invalid input". Every module that defines a schema imports this
 * one, so English messages are set before anything is parsed.
 */
config(en());
