import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { RouteAnswer } from '../../shared/http/answers';
import { matchPath } from '../../shared/http/routes';

type Json = Record<string, unknown>;

export const OPENAPI_FILE = join(__dirname, '..', '..', 'docs', 'openapi.json');

/**
 * Checks real answers against docs/openapi.json: the route (method and path template) and the
 * status must be documented, the media type must be one the status documents, and the body must
 * validate against its schema (ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses). An undocumented
 * error code fails through the schema's `code` enum.
 */
export class OpenApiAnswers {
  /** Answers checked. */
  checked = 0;
  /** What was wrong, one line per bad answer. */
  readonly failures: string[] = [];
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(this.ajv);
    // Schemas refer to the document's components (#/components/...): resolve them in the document.
    this.ajv.addSchema({ ...document, $id: 'openapi' } as Json);
  }

  /** The problems of one answer ([] when it is as documented); also counted and recorded. */
  check(answer: RouteAnswer): string[] {
    this.checked += 1;
    const problems = this.problems(answer);
    const label = `${answer.method} ${answer.path} -> ${answer.result.statusCode}`;
    for (const problem of problems) this.failures.push(`${label}: ${problem}`);
    return problems;
  }

  private problems({ method, path, result }: RouteAnswer): string[] {
    const paths = this.document.paths as Record<string, Record<string, Json>>;
    const template = Object.keys(paths).find((t) => paths[t]?.[method.toLowerCase()] && matchPath(t, path));
    if (!template) return [`no documented route ${method} ${path}`];
    const pointer = `#/paths/${escape(template)}/${method.toLowerCase()}/responses/${result.statusCode}`;
    let response = (paths[template]?.[method.toLowerCase()]?.responses as Record<string, Json>)[String(result.statusCode)];
    if (!response) return [`status ${result.statusCode} is not documented for ${method} ${template}`];
    let resolved = pointer;
    if (typeof response.$ref === 'string') {
      resolved = response.$ref;
      response = this.resolve(response.$ref);
    }
    const content = response.content as Record<string, Json> | undefined;
    const body = result.body ?? '';
    if (!content) return body === '' ? [] : ['the documented answer has no body, but one came'];
    const mediaType = (headerOf(result.headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!content[mediaType]) return [`content-type "${mediaType}" is not documented (${Object.keys(content).join(', ')})`];
    let value: unknown = body;
    if (mediaType === 'application/json') {
      try {
        value = JSON.parse(body);
      } catch {
        return ['the body is not JSON'];
      }
    }
    const validate = this.validator(`${resolved}/content/${escape(mediaType)}/schema`);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${JSON.stringify((value as { error?: { code?: string } })?.error?.code ?? '')} is not one of the documented codes)` : ''}${e.params && 'additionalProperty' in e.params ? `: "${String(e.params.additionalProperty)}"` : ''}`);
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  private resolve(ref: string): Json {
    let node: unknown = this.document;
    for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node as Json;
  }
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  return Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}
