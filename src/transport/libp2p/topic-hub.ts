/**
 * The broadcast half of the libp2p transport: topic listeners over gossipsub. The hub keeps the
 * listeners (they survive a stop and start), subscribes gossipsub to a topic while it has at least one
 * listener and the node runs, and hands each message to the topic's listeners with its publisher.
 */
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { Logger } from '@libp2p/interface'
import type { TopicListener, Unsubscribe } from '../index.ts'

/** Topic listeners bound to one gossipsub instance. */
export class TopicHub {
  private readonly pubsub: GossipSub
  private readonly log: Logger
  private readonly listeners = new Map<string, Set<TopicListener>>()
  private attached = false

  constructor(pubsub: GossipSub, log: Logger) {
    this.pubsub = pubsub
    this.log = log
  }

  /** Subscribes gossipsub to every topic with listeners and starts delivering. Call after the node started. */
  attach(): void {
    if (this.attached) return
    this.attached = true
    this.pubsub.addEventListener('message', this.onMessage)
    for (const topic of this.listeners.keys()) this.pubsub.subscribe(topic)
  }

  /** Stops delivering (the node is stopping; gossipsub drops its subscriptions itself). */
  detach(): void {
    if (!this.attached) return
    this.attached = false
    this.pubsub.removeEventListener('message', this.onMessage)
  }

  /** Publishes `data` on `topic`; failures are logged (broadcast is best effort). */
  publish(topic: string, data: Uint8Array): void {
    this.pubsub.publish(topic, data).catch((error: unknown) => {
      this.log('publish on %s failed - %e', topic, error)
    })
  }

  /** Adds `listener` to `topic`; the returned function removes it (once). */
  subscribe(topic: string, listener: TopicListener): Unsubscribe {
    let set = this.listeners.get(topic)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(topic, set)
      if (this.attached) this.pubsub.subscribe(topic)
    }
    // Wrapped, so the same function subscribed twice is two subscriptions, each removed once.
    const entry: TopicListener = (data, from) => listener(data, from)
    set.add(entry)
    return () => {
      if (!set.delete(entry) || set.size > 0) return
      this.listeners.delete(topic)
      if (this.attached) this.pubsub.unsubscribe(topic)
    }
  }

  private readonly onMessage = (event: CustomEvent<Message>): void => {
    const message = event.detail
    if (message.type !== 'signed') return // unsigned messages name no publisher
    const set = this.listeners.get(message.topic)
    if (set === undefined) return
    const from = message.from.toString()
    for (const listener of [...set]) {
      try {
        listener(message.data, from)
      } catch (error) {
        this.log.error('listener of %s threw - %e', message.topic, error)
      }
    }
  }
}
