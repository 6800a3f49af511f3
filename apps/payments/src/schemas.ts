import { type Static, Type } from 'typebox';

/** The payment methods the service takes. */
export const PAYMENT_METHODS = ['credit_card', 'debit_card', 'bank_transfer', 'wallet'] as const;

/** Bounds of `metadata`: a small map of short strings. */
export const METADATA_LIMITS = { entries: 20, keyLength: 40, valueLength: 500 } as const;

/**
 * The body of `POST /api/v1/payments`. The schema checks shapes (400 when wrong); the amount's
 * value against its currency (> 0, decimals, maximum) and the currency's existence are checked
 * next and answer 422.
 */
export const PaymentRequest = Type.Object(
  {
    amount: Type.Number({ description: 'In major units as a JSON number, e.g. 99.99 (USD) or 500 (JPY).' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'An ISO 4217 code, e.g. USD.' }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    payment_method: Type.Union(PAYMENT_METHODS.map((method) => Type.Literal(method))),
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: METADATA_LIMITS.valueLength }), {
        maxProperties: METADATA_LIMITS.entries,
        propertyNames: { minLength: 1, maxLength: METADATA_LIMITS.keyLength },
      }),
    ),
  },
  { additionalProperties: false },
);
export type PaymentRequest = Static<typeof PaymentRequest>;

/** A payment as the API answers it. */
export const Payment = Type.Object({
  transaction_id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('declined')]),
  amount: Type.Number(),
  currency: Type.String(),
  payment_method: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.String()),
  decline_code: Type.Optional(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});
export type Payment = Static<typeof Payment>;

/** An RFC 9457 problem document. */
export const ProblemDocument = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String() },
  { additionalProperties: true },
);

/** The headers of an authenticated call (documented in OpenAPI; checked by the auth hook). */
export const AuthHeaders = Type.Object({ authorization: Type.Optional(Type.String()) });
