/**
 * A route as a policy file names it: `POST /api/votes` (one method, one template), or for
 * limits also `/integrations/telegram/payments` (any method) and a trailing `*` for every
 * template under a prefix (`POST /internal/worker/*`).
 */
export interface RoutePattern {
  /** As written, trimmed: tables print it back. */
  readonly text: string;
  /** Upper-case; `undefined` matches every method. */
  readonly method: string | undefined;
  /** The template, or the prefix before `*`. */
  readonly path: string;
  readonly prefix: boolean;
}

/** Methods a route may name. */
export const routeMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const grammar = /^(?:([A-Za-z]+)\s+)?(\/[^\s*]*)(\*)?$/;

/** What goes wrong reading a route, for the caller to word as a problem. */
export type RouteParseResult =
  | { readonly ok: true; readonly route: RoutePattern }
  | { readonly ok: false; readonly message: string };

/**
 * Reads a route. `exact` (idempotency rows) demands a method and no `*`: a key belongs to one
 * registered route.
 */
export function parseRoute(text: string, exact: boolean): RouteParseResult {
  const trimmed = text.trim();
  const match = grammar.exec(trimmed);
  if (match === null) {
    return { ok: false, message: `"${text}" is not a route.` };
  }
  const method = match[1]?.toUpperCase();
  if (method !== undefined && !(routeMethods as readonly string[]).includes(method)) {
    return { ok: false, message: `"${match[1]}" is not an HTTP method.` };
  }
  const prefix = match[3] !== undefined;
  if (exact && (method === undefined || prefix)) {
    return { ok: false, message: `"${text}" must name one method and one template.` };
  }
  return { ok: true, route: { text: trimmed, method, path: match[2]!, prefix } };
}

/** Whether a registered route (`method`, `template`) is one the pattern names. */
export function routeMatches(pattern: RoutePattern, method: string, template: string): boolean {
  if (pattern.method !== undefined && pattern.method !== method.toUpperCase()) return false;
  return pattern.prefix ? template.startsWith(pattern.path) : template === pattern.path;
}

/** The route as compared for duplicates: `post /a` and `POST /a` are one route. */
export function routeIdentity(pattern: RoutePattern): string {
  return `${pattern.method ?? '*'} ${pattern.path}${pattern.prefix ? '*' : ''}`;
}
