/**
 * A cluster of membership services on one SimNetwork and SimScheduler, driven from one seed, for the
 * service tests. Every node gets the same options unless `add` overrides them.
 */
import { SeededRandom } from '../../src/core/index.ts'
import { equalDigests } from '../../src/membership/gossip-digest.ts'
import {
  MembershipService,
  type MembershipServiceInit,
} from '../../src/membership/membership-service.ts'
import { SimNetwork, type SimNetworkInit, SimScheduler } from '../../src/sim/index.ts'

/** Test timings: a round of 100 ms keeps simulations short in events. */
export const fastInit: Omit<MembershipServiceInit, 'cluster'> = {
  gossipIntervalMs: 100,
  antiEntropyIntervalMs: 1000,
  exchangeTimeoutMs: 500,
  detector: { suspectAfterMs: 500, downAfterMs: 1000, upAfterHeartbeats: 3 },
  autoClaim: { stableMs: 1000, partitionCount: 64, targetN: 3 },
}

/** One member's event, with the virtual time it happened at. */
export interface SeenEvent {
  readonly atMs: number
  readonly node: string
  readonly type: 'member:down' | 'member:up' | 'ring:changed'
  readonly member?: string
}

/** The simulated cluster; see the module comment. */
export class MembershipSim {
  readonly scheduler = new SimScheduler()
  readonly network: SimNetwork
  private readonly random: SeededRandom
  readonly services = new Map<string, MembershipService>()
  readonly events: SeenEvent[] = []
  private readonly init: Omit<MembershipServiceInit, 'cluster'>

  /** `network` sets link faults and a trace; `init` the services' options. */
  constructor(
    seed: number,
    network: Omit<SimNetworkInit, 'scheduler' | 'random'> = {},
    init = fastInit,
  ) {
    this.random = new SeededRandom(seed)
    this.network = new SimNetwork({
      scheduler: this.scheduler,
      random: this.random.fork('network'),
      requestTimeoutMs: 1000,
      ...network,
    })
    this.init = init
  }

  /** Starts a node `id` (after a crash, a fresh process with an empty state) and its service. */
  async add(id: string, init: Partial<MembershipServiceInit> = {}): Promise<MembershipService> {
    const transport = this.network.nodeIds().includes(id)
      ? this.network.restart(id)
      : this.network.createTransport(id)
    await transport.start()
    const service = new MembershipService(
      {
        transport,
        clock: this.scheduler,
        scheduler: this.scheduler,
        random: this.random.fork(`membership/${id}`),
      },
      { cluster: 'test', ...this.init, ...init },
    )
    const note = (type: SeenEvent['type'], member?: string) =>
      this.events.push({
        atMs: this.scheduler.now(),
        node: id,
        type,
        ...(member !== undefined && { member }),
      })
    service.addEventListener('member:down', (e) => note('member:down', e.detail))
    service.addEventListener('member:up', (e) => note('member:up', e.detail))
    service.addEventListener('ring:changed', () => note('ring:changed'))
    await service.start()
    this.services.set(id, service)
    return service
  }

  /** Starts nodes `n0` … `n(count-1)`. */
  async addMany(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.add(`n${i}`)
  }

  /** Crashes node `id`: its transport dies and its service stops. */
  async crash(id: string): Promise<void> {
    this.network.crash(id)
    await this.services.get(id)!.stop()
    this.services.delete(id)
  }

  /** Whether every running service holds the same state. */
  converged(): boolean {
    const [first, ...rest] = [...this.services.values()]
    return first !== undefined && rest.every((s) => equalDigests(s.digest(), first.digest()))
  }

  /**
   * Runs until `done()` holds, checking every `stepMs`; resolves with the virtual time it first held.
   * Throws when it still does not hold after `limitMs`.
   */
  async runUntil(done: () => boolean, limitMs: number, stepMs = 10): Promise<number> {
    const endMs = this.scheduler.now() + limitMs
    while (!done()) {
      if (this.scheduler.now() >= endMs) {
        throw new Error(`condition not reached within ${limitMs} ms`)
      }
      await this.scheduler.runFor(stepMs)
    }
    return this.scheduler.now()
  }

  /** Every running service. */
  all(): MembershipService[] {
    return [...this.services.values()]
  }
}
