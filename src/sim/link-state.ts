/**
 * Which links of a simulated network are cut, blocked or clogged. A pure value holder with no timers:
 * `SimNetwork` asks it before sending and on arrival.
 *
 * - A *cut* is two-way: the peers' connection closes (both see `peer:disconnect`, requests fail with
 *   `UnreachableError`). Partitions are cuts between groups.
 * - A *block* is one-way and silent (a gray failure): messages from one peer to the other vanish, the
 *   connection looks up, requests time out. Finding it is the failure detector's job.
 * - A *clog* slows one direction by a factor, or holds its messages until unclogged.
 */
import { InvalidArgumentError } from '../core/index.ts'
import type { PeerId } from '../transport/index.ts'

function directed(from: PeerId, to: PeerId): string {
  return JSON.stringify([from, to])
}

function undirected(a: PeerId, b: PeerId): string {
  return a < b ? directed(a, b) : directed(b, a)
}

/** The fault state of every link. */
export class LinkState {
  /** Group index of each peer listed by the current partition; unlisted peers share group -1. */
  private groups: Map<PeerId, number> | undefined
  private readonly cuts = new Set<string>()
  private readonly blocks = new Set<string>()
  private readonly clogs = new Map<string, number>()

  /**
   * Splits the network into `groups`: peers in different groups cannot talk, in either direction. Peers
   * not listed form one more group together. Replaces the previous partition; explicit cuts and blocks
   * stay. Throws `InvalidArgumentError` if a peer is listed twice.
   */
  partition(groups: readonly (readonly PeerId[])[]): void {
    const assignment = new Map<PeerId, number>()
    groups.forEach((group, index) => {
      for (const peer of group) {
        if (assignment.has(peer)) throw new InvalidArgumentError(`peer ${peer} is in two groups`)
        assignment.set(peer, index)
      }
    })
    this.groups = assignment
  }

  /** Cuts the link between `a` and `b`, both ways. */
  cut(a: PeerId, b: PeerId): void {
    this.cuts.add(undirected(a, b))
  }

  /** Restores a link cut with {@link cut} (not one separated by a partition). */
  restore(a: PeerId, b: PeerId): void {
    this.cuts.delete(undirected(a, b))
  }

  /** Silently drops every message from `from` to `to` (one way). */
  block(from: PeerId, to: PeerId): void {
    this.blocks.add(directed(from, to))
  }

  /** Removes a block set with {@link block}. */
  unblock(from: PeerId, to: PeerId): void {
    this.blocks.delete(directed(from, to))
  }

  /** Multiplies delays from `from` to `to` by `factor` (>= 1); `Infinity` holds messages until unclogged. */
  clog(from: PeerId, to: PeerId, factor: number): void {
    if (!(factor >= 1)) throw new InvalidArgumentError(`clog factor must be >= 1, got ${factor}`)
    this.clogs.set(directed(from, to), factor)
  }

  /** Removes a clog. */
  unclog(from: PeerId, to: PeerId): void {
    this.clogs.delete(directed(from, to))
  }

  /** Removes the partition, every cut, block and clog. */
  heal(): void {
    this.groups = undefined
    this.cuts.clear()
    this.blocks.clear()
    this.clogs.clear()
  }

  /** Whether `a` and `b` are separated by a cut or the partition. */
  isCut(a: PeerId, b: PeerId): boolean {
    if (this.cuts.has(undirected(a, b))) return true
    if (this.groups === undefined) return false
    return (this.groups.get(a) ?? -1) !== (this.groups.get(b) ?? -1)
  }

  /** Whether messages from `from` to `to` are silently dropped. */
  isBlocked(from: PeerId, to: PeerId): boolean {
    return this.blocks.has(directed(from, to))
  }

  /** The delay factor from `from` to `to`: 1 when not clogged, `Infinity` when held. */
  clogFactor(from: PeerId, to: PeerId): number {
    return this.clogs.get(directed(from, to)) ?? 1
  }
}
