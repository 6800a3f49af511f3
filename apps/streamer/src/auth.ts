/** The user key the service accepts when `API_KEYS` is unset, so the README's examples work. */
export const DEVELOPMENT_API_KEY = 'test-api-key';
/** The worker key accepted when `WORKER_KEYS` is unset. */
export const DEVELOPMENT_WORKER_KEY = 'test-worker-key';
/** The Telegram webhook secret accepted when `TELEGRAM_WEBHOOK_SECRET` is unset. */
export const DEVELOPMENT_TELEGRAM_SECRET = 'test-telegram-secret';
