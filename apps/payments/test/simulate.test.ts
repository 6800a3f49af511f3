/** `simulate-concurrent`'s listener: opened once and shared, and opened again after a failure. */
import { describe, expect, it } from 'vitest';
import { openedOnce } from '../src/routes/simulate.ts';

describe('the simulation listener, opened once', () => {
  it('shares one opening, forgets a failed one, and opens again on the next call', async () => {
    const outcomes = [new Error('listen EMFILE'), 'second', 'third'];
    let calls = 0;
    const target = openedOnce(async () => {
      const outcome = outcomes[calls++]!;
      if (outcome instanceof Error) throw outcome;
      return outcome;
    });
    expect(target.current).toBeUndefined();
    await expect(Promise.all([target.get(), target.get()])).rejects.toThrow('EMFILE');
    expect(calls).toBe(1); // two callers at once shared the one failed attempt
    expect(target.current).toBeUndefined();
    expect(await Promise.all([target.get(), target.get()])).toEqual(['second', 'second']);
    expect(await target.get()).toBe('second');
    expect(calls).toBe(2);
    expect(await target.current).toBe('second');
  });
});
