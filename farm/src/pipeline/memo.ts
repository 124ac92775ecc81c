/** One promise per key: concurrent callers share the first call's work (and its failure). */
export class Memo<T> {
  readonly #values = new Map<string, Promise<T>>();

  get(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.#values.get(key);
    if (!value) this.#values.set(key, (value = make()));
    return value;
  }

  /** The next `get` of these keys does the work again. */
  forget(matches: (key: string) => boolean): void {
    for (const key of [...this.#values.keys()]) if (matches(key)) this.#values.delete(key);
  }
}
