import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { type RateLimiter, rateLimitHeaders } from 'tollgate';
import { limitedAnswer } from 'tollgate/fastify';
import type { BearerKeys, SharedSecret } from '../auth.ts';
import { sendProblem, serviceProblems } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller once authenticated: a user id, or a worker id on `/internal/worker/*`. */
    principal: string | undefined;
  }
}

/**
 * The hook that answers 401 problem+json unless `Authorization: Bearer <key>` names a known
 * caller. A request without one pays `per-ip` first (429 once its address has spent it).
 */
export function bearer(keys: BearerKeys, realm: string, failedAuth: RateLimiter): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = keys.principalOf(request.headers.authorization);
    if (principal !== undefined) {
      request.principal = principal;
      return;
    }
    if (await refusedForGuessing(failedAuth, request, reply)) return reply;
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
 * The hook that answers 401 unless `X-Telegram-Bot-Api-Secret-Token` is the webhook's secret
 * (a request without it pays `per-ip` first, as in {@link bearer}). A request that has it is
 * Telegram's: an authenticated caller, so it counts against the route's global limit
 * (tollgate leaves anonymous requests out of limits shared by everyone).
 */
export function telegramSecret(secret: SharedSecret, failedAuth: RateLimiter): onRequestHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (secret.matches(request.headers['x-telegram-bot-api-secret-token'])) {
      request.principal = TELEGRAM_PRINCIPAL;
      return;
    }
    if (await refusedForGuessing(failedAuth, request, reply)) return reply;
    return sendProblem(reply, {
      ...serviceProblems['unauthorized'],
      detail: 'X-Telegram-Bot-Api-Secret-Token is missing or is not the secret given to setWebhook.',
    });
  };
}

/**
 * Counts a request that failed authentication against `per-ip`: true when that limit is spent
 * and the 429 has been sent; else its headers are set for the 401 to follow.
 */
async function refusedForGuessing(
  failedAuth: RateLimiter,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const limits = await failedAuth.check({ ip: request.ip });
  const headers = rateLimitHeaders(limits);
  if (limits.allowed) {
    reply.headers(headers);
    return false;
  }
  const answer = limitedAnswer(limits, headers);
  reply.code(answer.status).headers(answer.headers).send(answer.body);
  return true;
}
