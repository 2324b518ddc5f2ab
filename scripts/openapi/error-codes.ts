import { join, relative } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import ts from 'typescript';
import * as errors from '../../shared/domain/errors';
import { statusOf } from '../../shared/http/errors';
import type { RouteSpec } from '../../shared/http/routes';

/**
 * Which error codes a route can answer, and with which status, read from the code rather than
 * written down by hand:
 * 1. the files the route's function bundles (esbuild's metafile from functions/<fn>/handler.ts),
 *    less the use cases (shared/use-cases/) that only the function's other routes call, and in
 *    them the top-level declarations the handler's module code reaches by name;
 * 2. in those files, every `new <Error>(code, ...)` of a class of the NocredsError family
 *    (shared/domain/errors.ts), and the `super(code, ...)` of a subclass with its own constructor
 *    (`InvalidClaimError`), the code resolved from a literal, a template,
 *    the caller's arguments when it is a parameter (`invalid(code, ...)`), or a string-literal type;
 * 3. the status from the one HTTP mapping (shared/http/errors.ts); a class it maps to 500 answers
 *    `internal_error`.
 * A code that cannot be resolved fails the generation with its file and line: the document never
 * guesses. The result may say more than a route can reach (a declaration's codes count for every
 * route that reaches it, even through a branch the route never takes), never less.
 */

export interface ErrorSite {
  readonly code: string;
  readonly status: number;
  readonly file: string;
  readonly line: number;
}

const ROOT = join(__dirname, '..', '..');
const USE_CASES = 'shared/use-cases/';
/** Where route.ts raises body errors: only routes with a body (or a query schema) reach them. */
const BODY_ONLY = new Set(['bodyLimits', 'jsonBody']);
const INPUT_ONLY = new Set(['validationErrorFrom']);

const ERROR_CLASSES = new Map<string, unknown>(Object.entries(errors).filter(([, value]) => typeof value === 'function'));

/** The import graph of one function, as esbuild bundles it (npm packages left out). */
export function importGraph(fn: string): Map<string, string[]> {
  const result = buildSync({
    entryPoints: [`functions/${fn}/handler.ts`],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  const inputs = (result.metafile as Metafile).inputs;
  return new Map(Object.entries(inputs).map(([file, input]) => [file, input.imports.filter((i) => !i.external).map((i) => i.path)]));
}

function closure(graph: Map<string, string[]>, starts: string[], enter: (file: string) => boolean): Set<string> {
  const seen = new Set<string>();
  const queue = starts.filter((s) => graph.has(s));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of graph.get(file) ?? []) if (!seen.has(next) && enter(next)) queue.push(next);
  }
  return seen;
}

/** The files a route can run: its function's bundle, entering only its own use cases (and theirs). */
export function routeFiles(fn: string, useCases: readonly string[], graphs = new Map<string, Map<string, string[]>>()): Set<string> {
  let graph = graphs.get(fn);
  if (!graph) {
    graph = importGraph(fn);
    graphs.set(fn, graph);
  }
  const own = [...closure(graph, useCases.map((u) => `${USE_CASES}${u}.ts`), () => true)].filter((f) => f.startsWith(USE_CASES));
  for (const useCase of useCases) {
    if (!graph.has(`${USE_CASES}${useCase}.ts`)) throw new Error(`the ${fn} function does not bundle ${USE_CASES}${useCase}.ts (named in functions/api-contract.ts)`);
  }
  return closure(graph, [`functions/${fn}/handler.ts`], (f) => !f.startsWith(USE_CASES) || own.includes(f));
}

/** Scans source files for the error sites of the NocredsError family. */
export class ErrorSiteScanner {
  private readonly program: ts.Program;
  private readonly checker: ts.TypeChecker;
  /** class name -> its base class name, for every class declared in the scanned files. */
  private readonly bases = new Map<string, string>();
  /** Classes declared outside errors.ts with a constructor of their own (their code is in their `super` call). */
  private readonly ownConstructor = new Set<string>();

  constructor(files: Iterable<string>) {
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
    const options = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options;
    this.program = ts.createProgram([...files].map((f) => join(ROOT, f)), { ...options, noEmit: true });
    this.checker = this.program.getTypeChecker();
    for (const file of this.sourceFiles()) {
      const visit = (node: ts.Node): void => {
        if (ts.isClassDeclaration(node) && node.name) {
          const base = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
          if (base && ts.isIdentifier(base)) this.bases.set(node.name.text, base.text);
          if (!ERROR_CLASSES.has(node.name.text) && node.members.some(ts.isConstructorDeclaration)) this.ownConstructor.add(node.name.text);
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
  }

  private sourceFiles(): ts.SourceFile[] {
    return this.program.getSourceFiles().filter((f) => !f.isDeclarationFile && !f.fileName.includes('/node_modules/'));
  }

  /** The status a class of the family answers with, or undefined when it is not of the family. */
  private statusOfClass(name: string): number | undefined {
    let current: string | undefined = name;
    for (let depth = 0; current && depth < 10; depth++) {
      const cls = ERROR_CLASSES.get(current) as (abstract new (...args: never[]) => errors.NocredsError) | undefined;
      if (cls) {
        if (!(cls.prototype instanceof errors.NocredsError)) return undefined;
        return statusOf(Object.create(cls.prototype) as errors.NocredsError);
      }
      current = this.bases.get(current);
    }
    return undefined;
  }

  /**
   * The top-level declarations and statements of `files` that the entry file's module code can
   * reach by naming them (following imports; a class counts whole). Interfaces name no code: the
   * implementations behind a port are reached where the composition root constructs them.
   */
  reachable(entry: string, files: Set<string>): Set<ts.Node> {
    const inFiles = (node: ts.Node) => files.has(relative(ROOT, node.getSourceFile().fileName));
    const root = this.program.getSourceFile(join(ROOT, entry));
    if (!root) throw new Error(`${entry} is not in the program`);
    const seen = new Set<ts.Node>();
    // The entry's module code, and whatever any bundled file runs when it loads.
    const runsAtLoad = (statement: ts.Statement) =>
      ts.isExpressionStatement(statement) ||
      (ts.isVariableStatement(statement) && statement.declarationList.declarations.some((d) => d.initializer && !ts.isArrowFunction(d.initializer) && !ts.isFunctionExpression(d.initializer)));
    const loaded = this.sourceFiles().filter((f) => inFiles(f) && f !== root).flatMap((f) => f.statements.filter(runsAtLoad));
    const queue: ts.Node[] = [...root.statements, ...loaded];
    while (queue.length > 0) {
      const top = queue.pop() as ts.Node;
      if (seen.has(top)) continue;
      seen.add(top);
      const visit = (node: ts.Node): void => {
        if (ts.isIdentifier(node)) {
          let symbol = this.checker.getSymbolAtLocation(node);
          if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
          for (const declaration of symbol?.declarations ?? []) {
            if (declaration.getSourceFile().isDeclarationFile || !inFiles(declaration)) continue;
            const next = topLevelOf(declaration);
            if (next && !seen.has(next)) queue.push(next);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(top);
    }
    return seen;
  }

  /** Error sites in `files` (repository-relative) whose top-level statement is `reachable`; codes resolved within those files. */
  sites(files: Set<string>, reachable: Set<ts.Node>, keep: (enclosingFunction: string | undefined, file: string) => boolean): ErrorSite[] {
    const found: ErrorSite[] = [];
    const scanned = this.sourceFiles().filter((f) => files.has(relative(ROOT, f.fileName)));
    for (const file of scanned) {
      const rel = relative(ROOT, file.fileName);
      const visit = (node: ts.Node): void => {
        let className: string | undefined;
        let codeArg: ts.Expression | undefined;
        if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && !this.ownConstructor.has(node.expression.text)) {
          className = node.expression.text;
          codeArg = node.arguments?.[0];
        } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) {
          const cls = findAncestor(node, ts.isClassDeclaration);
          className = cls?.name ? this.bases.get(cls.name.text) : undefined;
          codeArg = node.arguments[0];
          // A constructor passing its own `code` on: the sites are its `new` expressions.
          if (codeArg && ts.isIdentifier(codeArg) && ts.isConstructorDeclaration(this.parameterOf(codeArg)?.parent ?? node)) codeArg = undefined;
        }
        const status = className === undefined ? undefined : this.statusOfClass(className);
        if (status !== undefined && codeArg && reachable.has(topLevelOf(node) as ts.Node) && keep(outermostFunctionName(node), rel)) {
          const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          for (const code of this.codesOf(codeArg, scanned, 0)) found.push({ code: status === 500 ? 'internal_error' : code, status, file: rel, line });
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    return found;
  }

  private codesOf(expression: ts.Expression, scanned: ts.SourceFile[], depth: number): string[] {
    const where = () => {
      const file = expression.getSourceFile();
      return `${relative(ROOT, file.fileName)}:${file.getLineAndCharacterOfPosition(expression.getStart()).line + 1}`;
    };
    if (depth > 6) throw new Error(`error code at ${where()}: too many levels of parameters to follow`);
    if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return [expression.text];
    if (ts.isParenthesizedExpression(expression)) return this.codesOf(expression.expression, scanned, depth);
    if (ts.isTemplateExpression(expression)) {
      let results = [expression.head.text];
      for (const span of expression.templateSpans) {
        const values = this.codesOf(span.expression, scanned, depth);
        results = results.flatMap((prefix) => values.map((v) => `${prefix}${v}${span.literal.text}`));
      }
      return results;
    }
    // `service.toLowerCase()`
    if (ts.isCallExpression(expression) && ts.isPropertyAccessExpression(expression.expression) && expression.expression.name.text === 'toLowerCase' && expression.arguments.length === 0) {
      return this.codesOf(expression.expression.expression, scanned, depth).map((v) => v.toLowerCase());
    }
    const literals = this.literalTypes(expression);
    if (literals) return literals;
    if (ts.isIdentifier(expression)) {
      const parameter = this.parameterOf(expression);
      if (parameter) return this.argumentsFor(parameter, scanned, depth);
    }
    throw new Error(`error code at ${where()} (${expression.getText()}) cannot be resolved to string literals: use a literal, a literal-typed value, or a parameter whose callers pass one`);
  }

  private literalTypes(expression: ts.Expression): string[] | undefined {
    const type = this.checker.getTypeAtLocation(expression);
    const parts = type.isUnion() ? type.types : [type];
    if (parts.length === 0 || !parts.every((t) => t.isStringLiteral())) return undefined;
    return parts.map((t) => (t as ts.StringLiteralType).value);
  }

  private parameterOf(identifier: ts.Identifier): ts.ParameterDeclaration | undefined {
    const symbol = this.checker.getSymbolAtLocation(identifier);
    const declaration = symbol?.valueDeclaration;
    return declaration && ts.isParameter(declaration) ? declaration : undefined;
  }

  /** What the callers of the parameter's function pass for it, in the scanned files. */
  private argumentsFor(parameter: ts.ParameterDeclaration, scanned: ts.SourceFile[], depth: number): string[] {
    const fn = parameter.parent;
    const index = fn.parameters.indexOf(parameter);
    const fnSymbol = this.functionSymbol(fn);
    if (!fnSymbol) throw new Error(`error code parameter "${parameter.name.getText()}" at ${relative(ROOT, parameter.getSourceFile().fileName)}: its function has no name to find callers by`);
    const values: string[] = [];
    for (const file of scanned) {
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node)) {
          let symbol = this.checker.getSymbolAtLocation(ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression);
          if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
          if (symbol === fnSymbol) {
            const argument = node.arguments[index] ?? parameter.initializer;
            if (!argument) throw new Error(`a call of ${fnSymbol.name} at ${relative(ROOT, file.fileName)} passes no error code`);
            values.push(...this.codesOf(argument, scanned, depth + 1));
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    return values;
  }

  private functionSymbol(fn: ts.SignatureDeclaration): ts.Symbol | undefined {
    if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name) return this.checker.getSymbolAtLocation(fn.name);
    if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) return this.checker.getSymbolAtLocation(fn.parent.name);
    return undefined;
  }
}

function findAncestor<T extends ts.Node>(node: ts.Node, test: (n: ts.Node) => n is T): T | undefined {
  for (let current: ts.Node | undefined = node.parent; current; current = current.parent) if (test(current)) return current;
  return undefined;
}

/** The statement directly in the source file that holds `node`. */
function topLevelOf(node: ts.Node): ts.Node | undefined {
  let current: ts.Node | undefined = node;
  while (current && current.parent && !ts.isSourceFile(current.parent)) current = current.parent;
  return current && current.parent ? current : undefined;
}

/** The name of the top-level function (declaration or `const name = ...`) a node is in. */
function outermostFunctionName(node: ts.Node): string | undefined {
  let name: string | undefined;
  for (let current: ts.Node | undefined = node.parent; current; current = current.parent) {
    if (ts.isFunctionDeclaration(current) && current.name) name = current.name.text;
    else if (ts.isVariableDeclaration(current) && ts.isIdentifier(current.name) && current.initializer && (ts.isArrowFunction(current.initializer) || ts.isFunctionExpression(current.initializer))) name = current.name.text;
  }
  return name;
}

/** Every error code each route can answer, by status, sorted; `internal_error` (500) always. */
export function routeErrorCodes(routes: readonly (Pick<RouteSpec, 'id' | 'fn' | 'auth'> & { readonly useCases: readonly string[]; readonly hasBody: boolean; readonly hasQuery: boolean })[]): Map<string, Map<number, string[]>> {
  const graphs = new Map<string, Map<string, string[]>>();
  const files = new Map(routes.map((route) => [route.id, routeFiles(route.fn, route.useCases, graphs)]));
  const scanner = new ErrorSiteScanner(new Set([...files.values()].flatMap((f) => [...f])));
  const result = new Map<string, Map<number, string[]>>();
  for (const route of routes) {
    const byStatus = new Map<number, Set<string>>([[500, new Set(['internal_error'])]]);
    // A public route (publicRoute) neither authenticates nor parses nor calls a use case.
    if (route.auth.length > 0) {
      const routeFiles = files.get(route.id) as Set<string>;
      const sites = scanner.sites(routeFiles, scanner.reachable(`functions/${route.fn}/handler.ts`, routeFiles), (fnName, file) => {
        if (file !== 'shared/http/route.ts' || fnName === undefined) return true;
        if (BODY_ONLY.has(fnName)) return route.hasBody;
        if (INPUT_ONLY.has(fnName)) return route.hasBody || route.hasQuery;
        return true;
      });
      for (const site of sites) {
        if (!byStatus.has(site.status)) byStatus.set(site.status, new Set());
        byStatus.get(site.status)?.add(site.code);
      }
    }
    result.set(route.id, new Map([...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, codes]) => [status, [...codes].sort()])));
  }
  return result;
}
