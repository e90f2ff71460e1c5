/**
 * How the claim loop waits: until a notification, a freed slot, the poll
 * timer or stop wakes it. `wanted` says whether there may be work to claim
 * (a notification came, the poll timer fired, or the last claim was full).
 */
export class Waker {
  wanted = true;
  #wakeUp: (() => void) | undefined;

  constructor(private readonly pollIntervalMs: number) {}

  /** Sleeps until woken; when no claim is wanted, the poll timer wakes it wanting one. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.wanted
        ? undefined
        : setTimeout(() => {
            this.wanted = true;
            wake();
          }, this.pollIntervalMs);
      const wake = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      this.#wakeUp = wake;
    });
  }

  /** Sleeps `ms` (a backoff), or until woken. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeUp = undefined;
        resolve();
      }, ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
    });
  }

  /** Wakes the loop if it waits; `wanted` marks that there may be work to claim. */
  wake(wanted: boolean): void {
    if (wanted) this.wanted = true;
    this.#wakeUp?.();
  }
}
