/**
 * A value now, or a promise of it when it had to be loaded. The token and introspection paths
 * return this: their lookups are cache hits almost always, and a hit then costs no promise and no
 * turn of the microtask queue. Anywhere else, plain `async` is the rule; `await` takes both forms.
 */
export type Eventually<T> = T | Promise<T>;

/** `next(value)` at once for a value, once it resolves for a promise; a throw stays a throw (or a rejection). */
export function andThen<T, R>(value: Eventually<T>, next: (value: T) => Eventually<R>): Eventually<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
