/**
 * One simulation run per seed, after TigerBeetle's VOPR: build a {@link SimCluster}, draw a fault
 * schedule, run the workload under the nemesis (the safety phase), then heal everything (no
 * partition, no message loss or duplication), restart every node and let time run (the liveness phase), read every key from all replicas, and judge the
 * history ({@link checkHistory}) and the settled cluster ({@link quiescence}, {@link checkReplicas}).
 *
 * Everything is driven from the seed, so `runSeed({ seed })` twice gives the same {@link SeedResult},
 * down to `traceHash`, a fingerprint of every network message (time, ends, kind, size, fate), every
 * nemesis step and every operation's outcome.
 */
import { SeededRandom } from '../core/index.ts'
import { checkHistory, type FinalRead, type Violation } from './checker.ts'
import { checkReplicas, finalRead, quiescence } from './checker-liveness.ts'
import { SimCluster, type SimClusterInit } from './cluster.ts'
import { drawSchedule, type FaultSchedule, Nemesis, type NemesisInit } from './nemesis.ts'
import type { SimTraceEntry } from './sim-network.ts'
import { Workload, type WorkloadInit } from './workload.ts'

/** Options of {@link runSeed}. Every field but `seed` has a default. */
export interface SeedRunInit {
  /** The seed. Required. */
  readonly seed: number
  /** Cluster options besides the seed. Default: `SimClusterInit`'s defaults (5 owners, 1 guest, Q 16, n 3, w 2, dw 2). */
  readonly cluster?: Omit<SimClusterInit, 'seed' | 'trace'>
  /** Workload options. Default: `WorkloadInit`'s (4 clients on 6 keys). */
  readonly workload?: WorkloadInit
  /**
   * Limits of the drawn fault schedule, or `false` for no faults. Ignored when {@link schedule} is
   * given. Default: `NemesisInit`'s, with faults starting in the first 3/4 of {@link durationMs}.
   */
  readonly nemesis?: Partial<Omit<NemesisInit, 'owners' | 'guests'>> | false
  /** An explicit fault schedule instead of a drawn one (for named scenarios). */
  readonly schedule?: FaultSchedule
  /** Virtual time the workload runs under faults, in ms. Default 6000. */
  readonly durationMs?: number
  /** Virtual time the cluster gets to settle after healing, in ms. Default 60 000. */
  readonly settleLimitMs?: number
  /** Most siblings a final read may hold. Default: twice the workload's clients (8 for 4 clients). */
  readonly siblingsMax?: number
  /** Receives each line of the trace (network messages as they happen, then nemesis steps and operations). Default: none. */
  readonly trace?: (line: string) => void
  /**
   * Called with the cluster right after it was built, before anything runs: a scenario schedules its
   * observations on `cluster.scheduler` here and inspects the cluster after the run. Default: none.
   */
  readonly observe?: (cluster: SimCluster) => void
}

/** What one seed's run found. */
export interface SeedResult {
  readonly seed: number
  /** True when no guarantee was broken. */
  readonly ok: boolean
  readonly violations: readonly Violation[]
  /** Gets and puts the workload ran. */
  readonly operations: number
  readonly acknowledgedWrites: number
  readonly lostAcknowledgedWrites: number
  /** Acknowledged writes every acknowledging member of which was wiped (not checked). */
  readonly excusedWrites: number
  /** Virtual time from healing to settled, in whole ms (checked every 50 ms); undefined when the cluster did not settle. */
  readonly convergenceMs: number | undefined
  /** Most values any read returned. */
  readonly maxSiblings: number
  /** Scheduler events run. */
  readonly events: number
  /** Virtual time at the end, in ms. */
  readonly virtualMs: number
  /** Fingerprint of the whole run (16 hex digits): equal for two runs of one seed. */
  readonly traceHash: string
  /** The fault schedule that ran. */
  readonly schedule: FaultSchedule
  /** The nemesis steps as applied. */
  readonly nemesisLog: readonly string[]
}

/** Runs one seed; see the module comment. Never rejects: an exception is reported as a violation. */
export async function runSeed(init: SeedRunInit): Promise<SeedResult> {
  const hash = new TraceHash()
  const trace = (line: string): void => {
    hash.add(line)
    init.trace?.(line)
  }
  const cluster = await SimCluster.create({
    ...init.cluster,
    seed: init.seed,
    trace: (entry) => trace(describeEntry(entry)),
  })
  init.observe?.(cluster)
  const random = new SeededRandom(init.seed).fork('run')
  const durationMs = init.durationMs ?? 6000
  const owners = cluster.ids().filter((id) => cluster.roleOf(id) === 'owner')
  const guests = cluster.ids().filter((id) => cluster.roleOf(id) === 'guest')
  const schedule =
    init.schedule ??
    (init.nemesis === false
      ? []
      : drawSchedule(random.fork('nemesis'), {
          windowMs: Math.floor((durationMs * 3) / 4),
          n: cluster.bucket.n,
          ...init.nemesis,
          owners,
          guests,
        }))
  const workload = new Workload(cluster, random.fork('workload'), init.workload)
  const nemesis = new Nemesis(cluster, schedule)
  const violations: Violation[] = []
  let liveness: Liveness = { convergenceMs: undefined, finals: new Map() }
  try {
    workload.start()
    nemesis.start()
    await cluster.runFor(durationMs)
    await cluster.settle(Promise.all([workload.stop(), nemesis.stop()]))
    for (const line of nemesis.log) trace(`nemesis ${line}`)
    liveness = await livenessPhase(cluster, workload, init.settleLimitMs ?? 60_000, violations)
  } catch (error) {
    violations.push({ kind: 'unexpected-error', message: `the run threw: ${describeError(error)}` })
  }
  violations.push(...bugsSeen(cluster, nemesis, workload))
  const report = checkHistory({
    history: workload.history,
    finals: liveness.finals,
    wipedAtMs: (member) => cluster.wipedAtMs(member),
    siblingsMax: init.siblingsMax ?? 2 * workload.clients,
  })
  violations.push(...report.violations)
  for (const op of workload.history) {
    trace(`op ${op.startMs}-${op.endMs} ${op.kind} ${op.key} via ${op.node}: ${op.outcome}`)
  }
  return {
    seed: init.seed,
    ok: violations.length === 0,
    violations,
    operations: workload.history.length,
    acknowledgedWrites: report.acknowledgedWrites,
    lostAcknowledgedWrites: report.lostAcknowledgedWrites,
    excusedWrites: report.excusedWrites,
    convergenceMs: liveness.convergenceMs,
    maxSiblings: report.maxSiblings,
    events: cluster.events,
    virtualMs: cluster.scheduler.now(),
    traceHash: hash.digest(),
    schedule,
    nemesisLog: nemesis.log,
  }
}

/** What the liveness phase found besides its violations. */
interface Liveness {
  readonly convergenceMs: number | undefined
  readonly finals: Map<string, FinalRead>
}

/**
 * Heals the network (no partition, loss or duplication), restarts every node, waits up to
 * `settleLimitMs` for the cluster to settle, then reads every key from all replicas and checks that
 * the replicas agree and that the final reads left no hints behind.
 */
async function livenessPhase(
  cluster: SimCluster,
  workload: Workload,
  settleLimitMs: number,
  violations: Violation[],
): Promise<Liveness> {
  cluster.heal()
  cluster.degradeLinks(0, 0)
  for (const id of cluster.ids()) await cluster.restart(id)
  const healedMs = cluster.scheduler.now()
  const settledMs = await cluster.runUntil(() => quiescence(cluster).settled, settleLimitMs)
  const finals = new Map<string, FinalRead>()
  if (settledMs === undefined) {
    const waiting = quiescence(cluster).waiting
    violations.push({ kind: 'no-convergence', message: `not settled: ${waiting.join('; ')}` })
    return { convergenceMs: undefined, finals }
  }
  for (const key of workload.keys) {
    const final = await finalRead(cluster, workload.bucket, key, violations)
    if (final !== undefined) finals.set(key, final)
  }
  violations.push(...(await checkReplicas(cluster, workload.bucket, workload.keys)))
  await cluster.runFor(2000)
  const after = quiescence(cluster)
  if (!after.settled) {
    violations.push({
      kind: 'hints-left',
      message: `after the final reads: ${after.waiting.join('; ')}`,
    })
  }
  return { convergenceMs: Math.round(settledMs - healedMs), finals }
}

/** Failures that are bugs wherever they come from: nemesis steps, coordinators and vnodes that threw. */
function bugsSeen(cluster: SimCluster, nemesis: Nemesis, workload: Workload): Violation[] {
  const bugs: Violation[] = []
  for (const { step, error } of nemesis.errors) {
    bugs.push({
      kind: 'unexpected-error',
      message: `nemesis step ${step.step.kind} failed: ${describeError(error)}`,
    })
  }
  for (const { record, error } of workload.unexpected) {
    bugs.push({
      kind: 'unexpected-error',
      message: `${record.kind} of ${record.key} threw ${describeError(error)}`,
    })
  }
  for (const failure of cluster.vnodeFailures) {
    bugs.push({
      kind: 'unexpected-error',
      message: `vnode ${failure.node}@${failure.partition} ${failure.callback} threw ${describeError(failure.error)}`,
    })
  }
  return bugs
}

/** Totals over many seeds; the CLI prints it (as JSON with `--json`). */
export interface SimSummary {
  /** Seeds run. */
  seeds: number
  /** Seeds that broke a guarantee. */
  failures: number
  /** Those seeds. */
  failedSeeds: number[]
  acknowledgedWrites: number
  lostAcknowledgedWrites: number
  /** Longest settling time of any seed, in ms. */
  maxConvergenceMs: number
  /** Most siblings any read of any seed returned. */
  maxSiblings: number
  /** Gets and puts run. */
  operations: number
  /** Scheduler events run. */
  events: number
}

/** An empty summary. */
export function emptySummary(): SimSummary {
  return {
    seeds: 0,
    failures: 0,
    failedSeeds: [],
    acknowledgedWrites: 0,
    lostAcknowledgedWrites: 0,
    maxConvergenceMs: 0,
    maxSiblings: 0,
    operations: 0,
    events: 0,
  }
}

/** Adds `result` to `summary` (in place) and returns it. */
export function addResult(summary: SimSummary, result: SeedResult): SimSummary {
  summary.seeds++
  if (!result.ok) {
    summary.failures++
    summary.failedSeeds.push(result.seed)
  }
  summary.acknowledgedWrites += result.acknowledgedWrites
  summary.lostAcknowledgedWrites += result.lostAcknowledgedWrites
  summary.maxConvergenceMs = Math.max(summary.maxConvergenceMs, result.convergenceMs ?? 0)
  summary.maxSiblings = Math.max(summary.maxSiblings, result.maxSiblings)
  summary.operations += result.operations
  summary.events += result.events
  return summary
}

/** Runs `seeds` one after the other with the same options; `onResult` sees each result. */
export async function runSeeds(
  seeds: Iterable<number>,
  init: Omit<SeedRunInit, 'seed'> = {},
  onResult?: (result: SeedResult) => void,
): Promise<SimSummary> {
  const summary = emptySummary()
  for (const seed of seeds) {
    const result = await runSeed({ ...init, seed })
    onResult?.(result)
    addResult(summary, result)
  }
  return summary
}

/** A network trace entry as one line. */
function describeEntry(e: SimTraceEntry): string {
  const why = e.reason === undefined ? '' : ` (${e.reason})`
  return `${e.timeMs} ${e.event} ${e.kind} ${e.from}->${e.to} ${e.label} ${e.bytes}B${why}`
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** Two FNV-1a hashes over the trace lines, as 16 hex digits. */
class TraceHash {
  #a = 0x811c9dc5
  #b = 0x01000193

  add(line: string): void {
    let a = this.#a
    let b = this.#b
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i)
      a = Math.imul(a ^ c, 0x01000193) >>> 0
      b = Math.imul(b ^ c, 0x811c9dc5 | 1) >>> 0
    }
    this.#a = Math.imul(a ^ 10, 0x01000193) >>> 0
    this.#b = Math.imul(b ^ 10, 0x811c9dc5 | 1) >>> 0
  }

  digest(): string {
    return this.#a.toString(16).padStart(8, '0') + this.#b.toString(16).padStart(8, '0')
  }
}
