import { hash } from 'node:crypto';

/** Whose request, to which route: with the key, the scope under which a record is stored. */
export interface Scope {
  /** The authenticated caller (an account or API key id); `''` for anonymous routes. */
  readonly principal: string;
  readonly method: string;
  /** The route template (`/payments/:id`), never the concrete path. */
  readonly route: string;
}

/**
 * The hex SHA-256 of the scope and key, which is all a store ever sees. Each part is
 * length-prefixed, so no choice of principal or route can collide with another's, and a raw key
 * never reaches storage or logs.
 */
export function scopeHash(scope: Scope, key: string): string {
  let text = 'tollgate-idempotency-scope-v1';
  for (const part of [scope.principal, scope.method.toUpperCase(), scope.route, key]) {
    text += `\n${Buffer.byteLength(part)}:${part}`;
  }
  return hash('sha256', text, 'hex');
}
