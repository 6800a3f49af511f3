/**
 * Turns on one connection: a transaction holds its turn from BEGIN to COMMIT or ROLLBACK, and a
 * statement outside any transaction takes a turn only to be sent (the connection runs statements
 * in the order they were sent), so it never lands inside someone else's transaction. First come,
 * first served.
 */
export class TurnQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Runs `work` alone: no other turn starts until it has settled. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.take(async (release) => {
      try {
        return await work();
      } finally {
        release();
      }
    });
  }

  /** Calls `send` at its turn and frees the turn at once; resolves with what `send` returns. */
  next<T>(send: () => Promise<T>): Promise<T> {
    // Nobody holds or waits for a turn: send now, skipping a trip through the promise chain.
    if (this.waiting === 0) return send();
    return this.take((release) => {
      try {
        return send();
      } finally {
        release();
      }
    });
  }

  private take<T>(turn: (release: () => void) => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise((resolve) => {
      release = () => {
        this.waiting--;
        resolve();
      };
    });
    this.waiting++;
    return before.then(() => turn(release));
  }
}
