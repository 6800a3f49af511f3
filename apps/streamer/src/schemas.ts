import { type Static, Type } from 'typebox';

/** The most stars one request may move: far below 2^53, so every sum stays an exact integer. */
export const STARS_MAX = 1_000_000_000;
/** Items in one worker batch. */
export const BATCH_MAX = 500;

const Stars = Type.Integer({
  minimum: 1,
  maximum: STARS_MAX,
  description: 'A positive whole number of stars.',
});
/** Ids the service issues (`str_…`, `inv_…`) and ids workers choose. */
const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
/** One line of text: no control characters. */
const Line = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

export const StreamerRequest = Type.Object(
  {
    name: Line(100),
    platform: Type.Union([Type.Literal('twitch'), Type.Literal('youtube'), Type.Literal('kick')]),
    channel: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  },
  { additionalProperties: false },
);
export type StreamerRequest = Static<typeof StreamerRequest>;

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const InvoiceParams = Type.Object({ invoice_id: Id }, { additionalProperties: false });

export const InvoiceRequest = Type.Object({ stars: Stars }, { additionalProperties: false });
export type InvoiceRequest = Static<typeof InvoiceRequest>;

export const VoteRequest = Type.Object({ streamer_id: Id, stars: Stars }, { additionalProperties: false });
export type VoteRequest = Static<typeof VoteRequest>;

export const WithdrawRequest = Type.Object(
  { stars: Stars, destination: Line(128) },
  { additionalProperties: false },
);
export type WithdrawRequest = Static<typeof WithdrawRequest>;

const Event = Type.Object(
  {
    streamer_id: Id,
    external_id: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
    type: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$' }),
    // RFC 3339, within what PostgreSQL stores as sent: years 1000–9999, offsets up to ±14:59,
    // at most microseconds, no leap second (year 0, +23:59 or a 7th fraction digit would be
    // refused by the database or silently rounded).
    occurred_at: Type.String({
      format: 'date-time',
      pattern:
        '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]{1,6})?([Zz]|[+-](0[0-9]|1[0-4]):[0-5][0-9])$',
      maxLength: 40,
    }),
    data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 })),
  },
  { additionalProperties: false },
);
export const EventsRequest = Type.Object(
  { events: Type.Array(Event, { minItems: 1, maxItems: BATCH_MAX }) },
  { additionalProperties: false },
);
export type EventsRequest = Static<typeof EventsRequest>;

const Clip = Type.Object(
  {
    id: Id,
    streamer_id: Id,
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }),
    title: Type.Optional(Line(200)),
    duration_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export const MediaRequest = Type.Object(
  { clips: Type.Array(Clip, { minItems: 1, maxItems: BATCH_MAX }) },
  { additionalProperties: false },
);
export type MediaRequest = Static<typeof MediaRequest>;

export const StatusRequest = Type.Object(
  {
    streamer_id: Id,
    status: Type.Union([Type.Literal('live'), Type.Literal('offline')]),
    viewers: Type.Optional(Type.Integer({ minimum: 0, maximum: STARS_MAX })),
  },
  { additionalProperties: false },
);
export type StatusRequest = Static<typeof StatusRequest>;

/** A Telegram integer id (chat, user): up to 52 bits, exact in a JSON number. */
const TelegramId = Type.Integer({ minimum: -(2 ** 53) + 1, maximum: 2 ** 53 - 1 });
const TelegramText = Type.String({ maxLength: 4096 });

/**
 * Telegram's `SuccessfulPayment`. Telegram adds fields over time, so unknown members are
 * accepted; the ones the service reads are checked.
 */
const SuccessfulPayment = Type.Object({
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  total_amount: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }),
  invoice_payload: Type.String({ minLength: 1, maxLength: 128 }),
  telegram_payment_charge_id: Type.String({ minLength: 1, maxLength: 4096 }),
  provider_payment_charge_id: TelegramText,
});

const Message = Type.Object({
  message_id: TelegramId,
  date: Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1 }),
  chat: Type.Object({ id: TelegramId, type: TelegramText }),
  from: Type.Optional(Type.Object({ id: TelegramId, is_bot: Type.Boolean(), first_name: TelegramText })),
  successful_payment: Type.Optional(SuccessfulPayment),
});

/** Telegram's `PreCheckoutQuery`: the user is about to pay; the bot must answer within 10 s. */
const PreCheckoutQuery = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 256 }),
  from: Type.Object({ id: TelegramId, is_bot: Type.Boolean(), first_name: TelegramText }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  total_amount: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }),
  invoice_payload: Type.String({ minLength: 1, maxLength: 128 }),
});

/**
 * Telegram's `Update`: an id and one kind of content; `pre_checkout_query` is answered and
 * `message.successful_payment` credited, anything else acknowledged.
 */
export const TelegramUpdate = Type.Object({
  update_id: Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1 }),
  message: Type.Optional(Message),
  pre_checkout_query: Type.Optional(PreCheckoutQuery),
});
export type TelegramUpdate = Static<typeof TelegramUpdate>;
