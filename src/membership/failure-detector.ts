/**
 * A failure detector with hysteresis, one member's local view of the others' health. It keeps no
 * timers: the caller reports heartbeats and connection events with their times and calls
 * {@link FailureDetector.evaluate} on its own tick (the membership service does so every gossip round).
 *
 * Each tracked peer is `up`, `suspect` or `down`:
 * - `up` → `suspect` once it has been silent for `suspectAfterMs` (missed heartbeats);
 * - `suspect` → `up` as soon as it is heard again;
 * - `suspect` → `down` when the transport has no connection to it (missed heartbeats and a lost
 *   connection agree), or when suspicion has lasted a further `downAfterMs` with the connection still
 *   open (a gray failure: connected but silent);
 * - `down` → `up` only after `upAfterHeartbeats` fresh heartbeats in a row, none further apart than
 *   `suspectAfterMs`, with the connection open.
 *
 * A link that drops and comes back faster than `suspectAfterMs` therefore never suspects, and a member
 * that comes back must be heard steadily before it counts as up again, so flapping does not trigger
 * transfers. A simple timeout with hysteresis rather than phi-accrual (Hayashibara et al., 2004): a
 * fixed threshold is easy to reason about, to test and to explain to operators, and heartbeats arrive
 * on a fixed period so the distribution phi would estimate carries little extra information.
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'

/** A peer's health in one member's view. */
export type PeerHealth = 'up' | 'suspect' | 'down'

/** Options of a {@link FailureDetector}. */
export interface FailureDetectorInit {
  /** Silence after which a peer is suspected, in ms. Default 5000: five missed heartbeats at the default interval. */
  readonly suspectAfterMs?: number
  /** How long a suspect with an open connection stays suspect before it is down, in ms. Default 10 000. */
  readonly downAfterMs?: number
  /** Fresh heartbeats in a row that bring a down peer back up. Default 3. */
  readonly upAfterHeartbeats?: number
}

/** One peer's change of health, reported by {@link FailureDetector.evaluate}. */
export interface HealthChange {
  readonly peer: MemberId
  readonly from: PeerHealth
  readonly to: PeerHealth
}

interface PeerRecord {
  health: PeerHealth
  /** When the peer was last heard from; -Infinity when never. */
  lastHeardMs: number
  /** When the current suspicion began. */
  suspectSinceMs: number
  /** Fresh heartbeats in a row, none further apart than `suspectAfterMs`. */
  streak: number
  connected: boolean
}

/** The detector; see the module comment. */
export class FailureDetector {
  /** The silence that makes a peer suspect, in ms. */
  readonly suspectAfterMs: number
  /** The further suspicion that makes a connected peer down, in ms. */
  readonly downAfterMs: number
  /** The heartbeats in a row that bring a down peer up. */
  readonly upAfterHeartbeats: number
  private readonly peers = new Map<MemberId, PeerRecord>()

  /** Throws {@link InvalidArgumentError} for a non-positive or non-finite option. */
  constructor(init: FailureDetectorInit = {}) {
    this.suspectAfterMs = positive(init.suspectAfterMs ?? 5000, 'suspectAfterMs')
    this.downAfterMs = positive(init.downAfterMs ?? 10_000, 'downAfterMs')
    this.upAfterHeartbeats = positive(init.upAfterHeartbeats ?? 3, 'upAfterHeartbeats')
  }

  /**
   * Starts watching `peer` at `nowMs` if it is not watched yet. An `up` peer gets a full
   * `suspectAfterMs` of grace before it is suspected; a `down` one (the cluster state says so) must
   * be heard steadily to come up.
   */
  track(peer: MemberId, nowMs: number, health: 'up' | 'down', connected: boolean): void {
    if (this.peers.has(peer)) return
    this.peers.set(peer, {
      health,
      lastHeardMs: health === 'up' ? nowMs : Number.NEGATIVE_INFINITY,
      suspectSinceMs: nowMs,
      streak: 0,
      connected,
    })
  }

  /** Stops watching `peer` (it left the cluster). */
  untrack(peer: MemberId): void {
    this.peers.delete(peer)
  }

  /** The peers watched, in no particular order. */
  tracked(): MemberId[] {
    return [...this.peers.keys()]
  }

  /** `peer`'s health, or undefined when it is not watched. */
  health(peer: MemberId): PeerHealth | undefined {
    return this.peers.get(peer)?.health
  }

  /** Records a fresh sign of life from `peer` at `nowMs` (a new heartbeat, an answered exchange); ignored for peers not watched. */
  heard(peer: MemberId, nowMs: number): void {
    const record = this.peers.get(peer)
    if (record === undefined) return
    record.streak = nowMs - record.lastHeardMs <= this.suspectAfterMs ? record.streak + 1 : 1
    record.lastHeardMs = nowMs
  }

  /** Records that the transport's connection to `peer` opened (`true`) or closed (`false`). */
  connection(peer: MemberId, open: boolean): void {
    const record = this.peers.get(peer)
    if (record !== undefined) record.connected = open
  }

  /** Applies the rules of the module comment at `nowMs` and returns every change of health, in no particular order. */
  evaluate(nowMs: number): HealthChange[] {
    const changes: HealthChange[] = []
    for (const [peer, record] of this.peers) {
      const from = record.health
      this.step(record, nowMs)
      if (record.health !== from) changes.push({ peer, from, to: record.health })
    }
    return changes
  }

  private step(record: PeerRecord, nowMs: number): void {
    const silentMs = nowMs - record.lastHeardMs
    const heardRecently = silentMs < this.suspectAfterMs
    if (record.health === 'up' && !heardRecently) {
      record.health = 'suspect'
      record.suspectSinceMs = record.lastHeardMs + this.suspectAfterMs
    }
    if (record.health === 'suspect') {
      if (heardRecently) record.health = 'up'
      else if (!record.connected || nowMs - record.suspectSinceMs >= this.downAfterMs) {
        record.health = 'down'
        record.streak = 0
      }
    } else if (record.health === 'down') {
      if (heardRecently && record.connected && record.streak >= this.upAfterHeartbeats) {
        record.health = 'up'
      }
    }
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0 && Number.isFinite(value))) {
    throw new InvalidArgumentError(`${name} must be a positive finite number, got ${value}`)
  }
  return value
}
