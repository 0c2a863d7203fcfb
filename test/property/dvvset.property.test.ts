/**
 * Properties of dotted version vector sets over states reached by random histories of writes,
 * replication and storage wipes on three replicas. The oracle: after merging every replica, the values
 * left are exactly the writes no other surviving write's context covered (Preguiça et al.'s correctness
 * condition), which with wipes is the kv679 guarantee that no acknowledged value is silently lost.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DvvSet } from '../../src/clock/index.ts'
import { emptySet, join, newValue, sync, update, values } from '../../src/clock/index.ts'

type Command =
  | { kind: 'write'; at: number; readFrom: number | null }
  | { kind: 'replicate'; from: number; to: number }
  | { kind: 'wipe'; at: number }

interface Replica {
  epoch: number
  state: DvvSet<number> | undefined
  /** Ids of every write merged into this replica's state, superseded or not. */
  history: Set<number>
}

interface Run {
  replicas: Replica[]
  /** For each write id, the writes its context covered. */
  covered: Map<number, Set<number>>
  /** Every state any replica held, in order. */
  states: DvvSet<number>[]
}

const replicaCount = 3
const replica = fc.nat({ max: replicaCount - 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      at: replica,
      readFrom: fc.option(replica),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('replicate' as const), from: replica, to: replica }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wipe' as const), at: replica }) },
)
const history = fc.array(command, { maxLength: 40 })

const actorOf = (index: number, r: Replica): string => `member-${index}:epoch-${r.epoch}`

/** Plays `commands`; a wiped replica comes back with a new epoch unless `renewEpoch` is false. */
function play(commands: readonly Command[], renewEpoch = true): Run {
  const replicas: Replica[] = Array.from({ length: replicaCount }, () => ({
    epoch: 0,
    state: undefined,
    history: new Set(),
  }))
  const covered = new Map<number, Set<number>>()
  const states: DvvSet<number>[] = []
  let nextId = 0
  for (const c of commands) {
    if (c.kind === 'write') {
      const r = replicas[c.at]!
      const read = c.readFrom === null ? undefined : replicas[c.readFrom]!
      const id = nextId++
      covered.set(id, new Set(read?.history))
      const context = read?.state === undefined ? undefined : join(read.state)
      r.state = update(newValue(context, id), r.state, actorOf(c.at, r))
      r.history = new Set([...r.history, ...(read?.history ?? []), id])
    } else if (c.kind === 'replicate') {
      const from = replicas[c.from]!
      const to = replicas[c.to]!
      if (from.state === undefined) continue
      to.state = to.state === undefined ? from.state : sync(from.state, to.state)
      to.history = new Set([...to.history, ...from.history])
    } else {
      const r = replicas[c.at]!
      r.state = undefined
      r.history = new Set()
      if (renewEpoch) r.epoch++
    }
    for (const r of replicas) if (r.state !== undefined) states.push(r.state)
  }
  return { replicas, covered, states }
}

function mergeAll(run: Run): DvvSet<number> {
  return run.replicas.reduce<DvvSet<number>>(
    (acc, r) => (r.state === undefined ? acc : sync(acc, r.state)),
    emptySet(),
  )
}

/** The writes that survive: known to some replica and covered by no surviving write's context. */
function expectedValues(run: Run): number[] {
  const known = new Set(run.replicas.flatMap((r) => [...r.history]))
  return [...known]
    .filter((v) => ![...known].some((w) => run.covered.get(w)!.has(v)))
    .sort((x, y) => x - y)
}

const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y)

const pick = (run: Run, i: number): DvvSet<number> =>
  run.states.length === 0 ? emptySet() : run.states[i % run.states.length]!

describe('dvvset properties', () => {
  it('keeps exactly the writes no surviving write superseded, across wipes (kv679)', () => {
    fc.assert(
      fc.property(history, (commands) => {
        const run = play(commands)
        expect(sorted(values(mergeAll(run)))).toEqual(expectedValues(run))
      }),
      { numRuns: 500 },
    )
  })

  it('loses writes when a wiped replica comes back under its old actor id (the oracle can fail)', () => {
    const lossy = fc.property(history, (commands) => {
      const run = play(commands, false)
      expect(sorted(values(mergeAll(run)))).toEqual(expectedValues(run))
    })
    expect(() => fc.assert(lossy, { numRuns: 2000, seed: 1 })).toThrow()
  })

  it('sync is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(history, fc.nat(), fc.nat(), fc.nat(), (commands, i, j, k) => {
        const run = play(commands)
        const [x, y, z] = [pick(run, i), pick(run, j), pick(run, k)]
        expect(sync(x, y)).toEqual(sync(y, x))
        expect(sync(sync(x, y), z)).toEqual(sync(x, sync(y, z)))
        expect(sync(x, x)).toEqual(x)
        expect(sync(x, sync(x, y))).toEqual(sync(x, y))
      }),
      { numRuns: 500 },
    )
  })

  it('an update with the latest context supersedes every value', () => {
    fc.assert(
      fc.property(history, fc.nat(), replica, (commands, i, at) => {
        const run = play(commands)
        const local = pick(run, i)
        const latest = sync(mergeAll(run), local)
        const written = update(newValue(join(latest), -1), local, actorOf(at, run.replicas[at]!))
        expect(values(written)).toEqual([-1])
        expect(values(sync(written, latest))).toEqual([-1])
      }),
      { numRuns: 300 },
    )
  })

  it('concurrent updates with the same context become siblings', () => {
    fc.assert(
      fc.property(history, fc.nat(), fc.nat(), replica, replica, (commands, i, j, p, q) => {
        const run = play(commands)
        const context = join(pick(run, i))
        const local = pick(run, j)
        const [ap, aq] = [actorOf(p, run.replicas[p]!), actorOf(q, run.replicas[q]!)]
        const first = update(newValue(context, -1), local, ap)
        const second = update(newValue(context, -2), p === q ? first : local, aq)
        const merged = sync(first, second)
        expect(values(merged)).toContain(-1)
        expect(values(merged)).toContain(-2)
      }),
      { numRuns: 300 },
    )
  })
})
