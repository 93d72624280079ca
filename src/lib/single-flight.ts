/** One computation per key at a time: callers asking while it runs get the same promise. */
export class SingleFlight<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  /** `joined` says whether the caller shares a computation another caller started. */
  run(key: string, compute: () => Promise<V>): { promise: Promise<V>; joined: boolean } {
    const running = this.inFlight.get(key);
    if (running) return { promise: running, joined: true };
    const promise = compute().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return { promise, joined: false };
  }
}
