/**
 * The nemesis: faults drawn from the seed as a declarative schedule (TigerBeetle's VOPR draws its
 * fault plan up front the same way), then applied to a {@link SimCluster} at their virtual times.
 * A schedule is plain data: print it, shrink it by hand, or write one for a named scenario.
 *
 * Faults: network partitions (healed later), degraded links (messages lost and duplicated at drawn
 * rates, restored later), crashes (losing the writes not yet durable) and
 * restarts, storage wipes (the node restarts with an empty disk), joins of new owners and leaves of
 * owners. {@link drawSchedule} keeps the schedule within limits (how many nodes are crashed at once,
 * how many wipes, joins and leaves) so the cluster stays able to serve quorums and the checked
 * guarantee stays meaningful.
 */
import { type Cancel, nextFloat, nextInt, type Random } from '../core/index.ts'
import type { MemberId } from '../ring/index.ts'
import type { SimCluster } from './cluster.ts'

/** One step of a fault schedule. */
export type FaultStep =
  | { readonly kind: 'partition'; readonly groups: readonly (readonly MemberId[])[] }
  | { readonly kind: 'heal' }
  | { readonly kind: 'degrade'; readonly lossRate: number; readonly duplicateRate: number }
  | { readonly kind: 'restore' }
  | { readonly kind: 'crash'; readonly node: MemberId }
  | { readonly kind: 'restart'; readonly node: MemberId }
  | { readonly kind: 'wipe'; readonly node: MemberId }
  | { readonly kind: 'join'; readonly node: MemberId }
  | { readonly kind: 'leave'; readonly node: MemberId }

/** A step and the virtual time it happens at. */
export interface ScheduledFault {
  readonly atMs: number
  readonly step: FaultStep
}

/** A fault schedule, sorted by time. */
export type FaultSchedule = readonly ScheduledFault[]

/** Kinds of fault {@link drawSchedule} picks from. */
export type FaultKind = 'partition' | 'degrade' | 'crash' | 'wipe' | 'join' | 'leave'

/** Options of {@link drawSchedule}. */
export interface NemesisInit {
  /** Owners at the start (`node-0` …). Required. */
  readonly owners: readonly MemberId[]
  /** Guests at the start. Required. */
  readonly guests: readonly MemberId[]
  /** Faults start within [0, windowMs); heals and restarts may come later. Required. */
  readonly windowMs: number
  /** Replicas per key (n): leaves keep at least n + 1 owners. Default 3. */
  readonly n?: number
  /** Faults started, drawn uniformly from [faultsMin, faultsMax]. Default 2 to 6. */
  readonly faultsMin?: number
  /** See {@link faultsMin}. Default 6. */
  readonly faultsMax?: number
  /** Fault kinds to draw from, with their weights. Default partition 3, degrade 2, crash 4, wipe 1, join 1, leave 1. */
  readonly kinds?: Partial<Record<FaultKind, number>>
  /** Nodes crashed at once, at most. Default: a minority of the owners, (owners − 1) / 2 rounded down. */
  readonly crashedMax?: number
  /** Wipes per schedule, at most. Default 1. */
  readonly wipesMax?: number
  /** Joins per schedule, at most. Default 1. */
  readonly joinsMax?: number
  /** Leaves per schedule, at most. Default 1. */
  readonly leavesMax?: number
  /** Highest loss and duplication rates a `degrade` fault draws (each uniform from 0). Default 0.05. */
  readonly degradeRateMax?: number
  /** How long a crashed node stays down, a partition or a degraded network lasts: uniform in [min, max] ms. Default 300 to 3000. */
  readonly faultMsMin?: number
  /** See {@link faultMsMin}. Default 3000. */
  readonly faultMsMax?: number
}

const defaultKinds: Record<FaultKind, number> = {
  partition: 3,
  degrade: 2,
  crash: 4,
  wipe: 1,
  join: 1,
  leave: 1,
}

/** Draws a fault schedule from `random`; see {@link NemesisInit} for the limits it keeps. */
export function drawSchedule(random: Random, init: NemesisInit): FaultSchedule {
  const n = init.n ?? 3
  const crashedMax = init.crashedMax ?? Math.floor((init.owners.length - 1) / 2)
  const faultMsMin = init.faultMsMin ?? 300
  const faultMsMax = init.faultMsMax ?? 3000
  const faultsMin = init.faultsMin ?? 2
  const count = faultsMin + nextInt(random, (init.faultsMax ?? 6) - faultsMin + 1)
  const weights = Object.entries({ ...defaultKinds, ...init.kinds }) as [FaultKind, number][]
  const starts = Array.from({ length: count }, () => nextInt(random, init.windowMs)).sort(
    (a, b) => a - b,
  )
  const owners = [...init.owners]
  const nodes = [...init.owners, ...init.guests]
  const crashed = new Set<MemberId>()
  const ends: ScheduledFault[] = []
  const schedule: ScheduledFault[] = []
  const used = { wipe: 0, join: 0, leave: 0 }
  let partitioned = false
  let degraded = false
  const rateMax = init.degradeRateMax ?? 0.05
  const duration = (): number => faultMsMin + nextInt(random, faultMsMax - faultMsMin + 1)
  const pick = <T>(items: readonly T[]): T => items[nextInt(random, items.length)]!
  const endsBy = (atMs: number): void => {
    ends.sort((a, b) => a.atMs - b.atMs)
    while (ends.length > 0 && ends[0]!.atMs <= atMs) {
      const end = ends.shift()!
      if (end.step.kind === 'restart') crashed.delete(end.step.node)
      if (end.step.kind === 'heal') partitioned = false
      if (end.step.kind === 'restore') degraded = false
    }
  }

  for (const atMs of starts) {
    endsBy(atMs)
    const up = nodes.filter((id) => !crashed.has(id))
    const possible: Record<FaultKind, boolean> = {
      partition: !partitioned && nodes.length >= 2,
      degrade: !degraded,
      crash: crashed.size < crashedMax && up.length > 0,
      wipe: used.wipe < (init.wipesMax ?? 1) && owners.some((id) => !crashed.has(id)),
      join: used.join < (init.joinsMax ?? 1),
      leave: used.leave < (init.leavesMax ?? 1) && owners.length > n + 1,
    }
    const allowed = weights.filter(([kind, weight]) => weight > 0 && possible[kind])
    if (allowed.length === 0) continue
    const kind = weighted(random, allowed)
    const at = (step: FaultStep): void => void schedule.push({ atMs, step })
    switch (kind) {
      case 'partition': {
        const shuffled = shuffle(random, nodes)
        const minority = 1 + nextInt(random, Math.floor(shuffled.length / 2))
        at({ kind: 'partition', groups: [shuffled.slice(0, minority), shuffled.slice(minority)] })
        ends.push({ atMs: atMs + duration(), step: { kind: 'heal' } })
        partitioned = true
        break
      }
      case 'degrade': {
        const rate = (): number => Math.round(nextFloat(random) * rateMax * 1000) / 1000
        at({ kind: 'degrade', lossRate: rate(), duplicateRate: rate() })
        ends.push({ atMs: atMs + duration(), step: { kind: 'restore' } })
        degraded = true
        break
      }
      case 'crash': {
        const node = pick(up)
        at({ kind: 'crash', node })
        crashed.add(node)
        ends.push({ atMs: atMs + duration(), step: { kind: 'restart', node } })
        break
      }
      case 'wipe':
        used.wipe++
        at({ kind: 'wipe', node: pick(owners.filter((id) => !crashed.has(id))) })
        break
      case 'join': {
        used.join++
        const node = `node-${init.owners.length + used.join - 1}`
        at({ kind: 'join', node })
        nodes.push(node)
        break
      }
      case 'leave': {
        used.leave++
        const node = pick(owners)
        owners.splice(owners.indexOf(node), 1)
        at({ kind: 'leave', node })
        break
      }
    }
  }
  return [...schedule, ...ends].sort((a, b) => a.atMs - b.atMs)
}

/** Applies a schedule to a cluster at the steps' virtual times (measured from when it starts). */
export class Nemesis {
  /** What was applied, one line per step: `<ms> <kind> <node or groups>`; a skipped step says why. */
  readonly log: string[] = []
  /** Steps that failed with an error (each is a bug). */
  readonly errors: { readonly step: ScheduledFault; readonly error: unknown }[] = []
  readonly #cluster: SimCluster
  readonly #schedule: FaultSchedule
  readonly #pending = new Set<Cancel>()
  readonly #running = new Set<Promise<void>>()

  constructor(cluster: SimCluster, schedule: FaultSchedule) {
    this.#cluster = cluster
    this.#schedule = schedule
  }

  /** Schedules every step. */
  start(): void {
    for (const scheduled of this.#schedule) {
      const cancel = this.#cluster.scheduler.schedule(scheduled.atMs, () => {
        this.#pending.delete(cancel)
        const run = this.#apply(scheduled).catch((error: unknown) => {
          this.errors.push({ step: scheduled, error })
        })
        this.#running.add(run)
        void run.finally(() => this.#running.delete(run))
      })
      this.#pending.add(cancel)
    }
  }

  /** Cancels the steps not applied yet; resolves once the steps in progress finished. */
  async stop(): Promise<void> {
    for (const cancel of this.#pending) cancel()
    this.#pending.clear()
    await Promise.all([...this.#running])
  }

  async #apply({ step }: ScheduledFault): Promise<void> {
    const cluster = this.#cluster
    const line = `${cluster.scheduler.now()} ${describeStep(step)}`
    switch (step.kind) {
      case 'partition':
        cluster.partition(step.groups)
        break
      case 'heal':
        cluster.network.heal()
        break
      case 'degrade':
        cluster.degradeLinks(step.lossRate, step.duplicateRate)
        break
      case 'restore':
        cluster.restoreLinks()
        break
      case 'crash':
        cluster.crash(step.node)
        break
      case 'restart':
        await cluster.restart(step.node)
        break
      case 'wipe':
        await cluster.wipe(step.node)
        break
      case 'join':
        await cluster.join(step.node)
        break
      case 'leave':
        if (!cluster.leave(step.node)) {
          this.log.push(`${line} (refused)`)
          return
        }
        break
    }
    this.log.push(line)
  }
}

/** A step in words: `crash node-1`, `partition node-0,guest-0 | node-1,...`. */
function describeStep(step: FaultStep): string {
  switch (step.kind) {
    case 'partition':
      return `partition ${step.groups.map((g) => g.join(',')).join(' | ')}`
    case 'heal':
    case 'restore':
      return step.kind
    case 'degrade':
      return `degrade loss ${step.lossRate} duplicates ${step.duplicateRate}`
    default:
      return `${step.kind} ${step.node}`
  }
}

function weighted<T>(random: Random, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0)
  let x = nextFloat(random) * total
  for (const [item, weight] of items) {
    x -= weight
    if (x < 0) return item
  }
  return items[items.length - 1]![0]
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = nextInt(random, i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
