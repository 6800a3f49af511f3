import { refusedForGuessing, type SharedSecret } from '@tollgate/service-kit/auth';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { RateLimiter } from 'tollgate';
import { sendProblem, serviceProblems } from '../problem.ts';

/** The principal of requests that carry the webhook's secret. */
export const TELEGRAM_PRINCIPAL = 'telegram';

/**
 * The hook that answers 401 unless `X-Telegram-Bot-Api-Secret-Token` is the webhook's secret
 * (a request without it pays `per-ip` first, as a request without a valid bearer key does). A
 * request that has it is Telegram's: an authenticated caller, so it counts against the route's
 * global limit (tollgate leaves anonymous requests out of limits shared by everyone).
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
