/** A duration as a policy file writes it (`60s`) and what it means in milliseconds. */
export interface Duration {
  /** The text as written, trimmed: tables print it back unchanged. */
  readonly text: string;
  readonly ms: number;
}

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof unitMs;
const grammar = /^([1-9][0-9]*)(ms|s|m|h|d)$/;

/** The help every duration error carries. */
export const durationHelp =
  'Write a whole number followed by ms, s, m, h or d, e.g. 500ms, 60s, 5m, 1h, 24h.';

/**
 * Reads `500ms`, `60s`, `5m`, `1h`, `24h`, `7d`: a positive whole number and one unit.
 * `undefined` for anything else (a bare number, a fraction, `1h30m`, a negative).
 */
export function parseDuration(text: string): Duration | undefined {
  const trimmed = text.trim();
  const match = grammar.exec(trimmed);
  if (match === null) return undefined;
  const ms = Number(match[1]) * unitMs[match[2] as Unit];
  return Number.isSafeInteger(ms) ? { text: trimmed, ms } : undefined;
}

/** The shortest exact way to write `ms` (largest unit that divides it): 60000 → `1m`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}
