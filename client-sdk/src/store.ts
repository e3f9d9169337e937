// Subscribable stores: the state the SDK keeps (presence, typing, messages, notifications) is
// exposed as values an application reads with `get()` or follows with `subscribe()`. The
// contract is Svelte's store contract, so a store drops into Svelte, React's
// `useSyncExternalStore` or plain code alike.

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** A value that changes over time. `subscribe` calls `run` at once, then after each change. */
export interface Readable<T> {
  get(): T;
  subscribe(run: (value: T) => void): Unsubscribe;
}

/** A store the SDK writes and applications read. */
export class Store<T> implements Readable<T> {
  #value: T;
  #subscribers = new Set<(value: T) => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get(): T {
    return this.#value;
  }

  subscribe(run: (value: T) => void): Unsubscribe {
    this.#subscribers.add(run);
    run(this.#value);
    return () => {
      this.#subscribers.delete(run);
    };
  }

  /** Replaces the value and tells every subscriber. */
  set(value: T): void {
    this.#value = value;
    for (const run of [...this.#subscribers]) {
      try {
        run(value);
      } catch (err) {
        // A subscriber's failure must not stop the others or the SDK.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  update(f: (value: T) => T): void {
    this.set(f(this.#value));
  }
}

/** A minimal typed event emitter. */
export class Emitter<Events extends Record<string, unknown[]>> {
  #handlers = new Map<keyof Events, Set<(...args: unknown[]) => void>>();

  on<K extends keyof Events>(event: K, handler: (...args: Events[K]) => void): Unsubscribe {
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    const h = handler as unknown as (...args: unknown[]) => void;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        handler(...(args as unknown[]));
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
