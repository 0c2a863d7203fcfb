/**
 * A typed `EventTarget`: `addEventListener('peer:connect', (e) => e.detail)` knows `detail`'s type. Events
 * are `CustomEvent`s, which Node, Deno and browsers all provide, so no emitter library is needed.
 */

/** A listener of events whose `detail` is `T`. */
export type TypedListener<T> = (event: CustomEvent<T>) => void

/** The typed view of an `EventTarget` whose event names and `detail` types are given by `EventMap`. */
export interface TypedEventTarget<EventMap extends object> {
  /** Adds `listener` for events of `type`. */
  addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<EventMap[K]>,
    options?: boolean | AddEventListenerOptions,
  ): void
  /** Removes a listener added with the same `type`, `listener` and capture flag. */
  removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<EventMap[K]>,
    options?: boolean | EventListenerOptions,
  ): void
}

/**
 * An `EventTarget` that implements {@link TypedEventTarget} and dispatches with {@link emit}.
 * A listener that throws does not stop the other listeners (standard `EventTarget` behaviour).
 */
export class TypedEventEmitter<EventMap extends object> implements TypedEventTarget<EventMap> {
  private readonly target = new EventTarget()

  addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<EventMap[K]>,
    options?: boolean | AddEventListenerOptions,
  ): void {
    this.target.addEventListener(type, listener as EventListener, options)
  }

  removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: TypedListener<EventMap[K]>,
    options?: boolean | EventListenerOptions,
  ): void {
    this.target.removeEventListener(type, listener as EventListener, options)
  }

  /** Dispatches a `CustomEvent` of `type` carrying `detail` to the listeners, synchronously. */
  emit<K extends keyof EventMap & string>(type: K, detail: EventMap[K]): void {
    this.target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
