/**
 * `tollgate/redis`: the Redis stores. Needs the optional peer dependency `ioredis`.
 */
export { type RedisClient, RedisScript } from './redis/script.ts';
