import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { BearerKeys, SharedSecret } from '../auth.ts';
import { sendProblem, serviceProblems } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller once authenticated: a user id, or a worker id on `/internal/worker/*`. */
    principal: string | undefined;
  }
}

/** The hook that answers 401 problem+json unless `Authorization: Bearer <key>` names a known caller. */
export function bearer(keys: BearerKeys, realm: string): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = keys.principalOf(request.headers.authorization);
    if (principal !== undefined) {
      request.principal = principal;
      return;
    }
    reply.header('www-authenticate', `Bearer realm="${realm}"`);
    return sendProblem(reply, {
      ...serviceProblems['unauthorized'],
      detail: 'Send a valid key as "Authorization: Bearer <key>".',
    });
  };
}

/** The principal of requests that carry the webhook's secret. */
export const TELEGRAM_PRINCIPAL = 'telegram';

/**
 * The hook that answers 401 unless `X-Telegram-Bot-Api-Secret-Token` is the webhook's secret.
 * A request that has it is Telegram's: an authenticated caller, so it counts against the
 * route's global limit (tollgate leaves anonymous requests out of limits shared by everyone).
 */
export function telegramSecret(secret: SharedSecret): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (secret.matches(request.headers['x-telegram-bot-api-secret-token'])) {
      request.principal = TELEGRAM_PRINCIPAL;
      return;
    }
    return sendProblem(reply, {
      ...serviceProblems['unauthorized'],
      detail: 'X-Telegram-Bot-Api-Secret-Token is missing or is not the secret given to setWebhook.',
    });
  };
}
