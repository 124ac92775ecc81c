/** Runs async critical sections one at a time per key, in call order, within this process. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    try {
      await previous;
      return await section();
    } finally {
      release();
      // Only the last waiter removes the entry, so the map does not grow with every key ever seen.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
