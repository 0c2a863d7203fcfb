/**
 * `npm run bench -- mesh [--rounds N] [--duration-ms N] [--warmup-ms N] [--latency-rounds N]
 * [--latency-duration-ms N] [--latency-warmup-ms N] [--settle-ms N]`: quorum requests on a real
 * three-member cluster (three Node processes on TCP loopback, memory storage, N 3, R 2, W 2, 1 KB
 * values), get and put at concurrency 1 and 64, coordinated by one member (so one replica is local, as
 * for an application running on a member), beside the raw libp2p echo baseline. Prints a table and
 * writes `bench/results/mesh.json`.
 *
 * The baseline is a raw echo of 1 KB (`_echo-protocols.ts`: length-prefixed frames, nothing of Solar
 * Orbit on top) on long-lived streams, one per worker or one shared, whichever is faster, measured
 * two ways: between two fresh processes of their own (`_echo-baseline.ts`), and from the coordinating
 * member to another over the very connection its quorum requests use. Each row takes the fastest of
 * those echoes as its baseline: the lowest p50 and the highest rate. At concurrency 1 the two stream
 * modes are the same thing (one worker, one stream), so only one is measured there. For reference the
 * run also measures the raw echo sent to both other members at once and done at the first answer,
 * which is the network part of a quorum request with nothing on top: the table compares requests at
 * concurrency 1 with it too (`p50/fan-out`), and the run prints its ratio to the echo, the floor
 * under the requests' own ratios.
 *
 * A shared two-CPU machine drifts by tens of percent within minutes, so no measurement is compared
 * with one taken minutes apart: the run repeats rounds, each measuring the echoes, get and put in turn,
 * and reports the median over the rounds of each figure and of each round's ratio (the table adds the
 * lowest and highest round's ratio; the report keeps every round's figures). Latency (concurrency
 * 1) is measured in many short rounds (`latency-rounds` of `latency-duration-ms`), so that the requests
 * and the echo they are compared with run seconds apart at most; throughput (concurrency 64) in fewer,
 * longer ones (`rounds` of `duration-ms`). Each measurement starts with an unmeasured warm-up, which
 * also lets the previous one's last answers arrive. Before the first round the members serve
 * `settle-ms` of unmeasured gets, half at each concurrency: their request path keeps getting faster for
 * about ten seconds of load while V8 optimizes it. Each row also reports the CPU time each member
 * spent per request (user + system, coordinator first): at concurrency 1 the three members share two
 * CPUs, so CPU per request shows up as latency.
 *
 * Targets: get and put p50 at concurrency 1 within 1.5× the echo p50 (a quorum request needs one
 * round trip to a remote replica when the coordinator holds one, and the echo is one round trip), and
 * throughput at concurrency 64 at least a third of the echo's (a get asks two remote replicas, a put
 * merges into two: twice the echo's messages, plus the vnode work).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { type LoopResult, type LoopTiming, median } from './_closed-loop.ts'
import { type EchoMode, startEchoSession } from './_echo-baseline.ts'
import { formatTable } from './_table.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'duration-ms': { type: 'string', default: '1500' },
    'warmup-ms': { type: 'string', default: '300' },
    'latency-rounds': { type: 'string', default: '15' },
    'latency-duration-ms': { type: 'string', default: '500' },
    'latency-warmup-ms': { type: 'string', default: '150' },
    'settle-ms': { type: 'string', default: '8000' },
  },
})
/** How each concurrency is measured: rounds, and the timing of each measurement in a round. */
interface Plan extends LoopTiming {
  concurrency: number
  rounds: number
  /** The echo modes worth measuring at this concurrency. */
  echoModes: EchoMode[]
}
const plans: Plan[] = [
  {
    concurrency: 1,
    rounds: Number(values['latency-rounds']),
    durationMs: Number(values['latency-duration-ms']),
    warmupMs: Number(values['latency-warmup-ms']),
    echoModes: ['multiplexed'],
  },
  {
    concurrency: 64,
    rounds: Number(values.rounds),
    durationMs: Number(values['duration-ms']),
    warmupMs: Number(values['warmup-ms']),
    echoModes: ['stream-per-worker', 'multiplexed'],
  },
]
const settleMs = Number(values['settle-ms'])
const ops = ['get', 'put'] as const
const valueBytes = 1024
const keys = 1000
const PEER = join(import.meta.dirname, '_mesh-peer.ts')

interface Member {
  id: string
  addrs: string[]
  child: ChildProcess
  send(command: object): Promise<Record<string, unknown>>
}

async function spawnMember(dir: string, join?: string): Promise<Member> {
  const args = [PEER, '--data-dir', dir, ...(join ? ['--join', join] : [])]
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting = new Map<number, (reply: Record<string, unknown>) => void>()
  let seq = 0
  const ready = new Promise<{ id: string; addrs: string[] }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`mesh peer exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.event === 'ready') resolve(message as never)
      else waiting.get(message.reply as number)?.(message)
    })
  })
  const hello = await ready
  return {
    ...hello,
    child,
    send: (command) =>
      new Promise((resolve, reject) => {
        const n = ++seq
        const timer = setTimeout(() => reject(new Error('mesh peer did not answer')), 300_000)
        waiting.set(n, (reply) => {
          clearTimeout(timer)
          waiting.delete(n)
          if (reply.ok) resolve(reply)
          else reject(new Error(`mesh peer: ${String(reply.error)}`))
        })
        child.stdin!.write(`${JSON.stringify({ ...command, seq: n })}\n`)
      }),
  }
}

/** The echoes of one round at one concurrency. */
interface Baseline {
  concurrency: number
  /** Every echo, by `<where> <mode>`. */
  echoes: Record<string, Pick<LoopResult, 'p50Ms' | 'opsPerSec'>>
  /** Raw echo to both other members, first answer (concurrency 1 only). */
  fanOutP50Ms?: number
  /** The fastest of {@link echoes}: the lowest p50, the highest rate. */
  p50Ms: number
  opsPerSec: number
}

/** One op at one concurrency in one round, with the baseline measured in the same round. */
interface Sample {
  op: (typeof ops)[number]
  concurrency: number
  result: LoopResult
  cpuUsPerOp: number[]
  baseline: Baseline
}

/** One round's figures for one op at one concurrency, beside the echo of the same round. */
interface RoundFigures {
  p50Ms: number
  opsPerSec: number
  echoP50Ms: number
  echoOpsPerSec: number
  /** The fan-out echo of the same round (concurrency 1 only). */
  fanOutP50Ms?: number
}
/** A round's p50 over its echo's: the latency target's ratio. */
const p50RatioOf = (r: RoundFigures): number => r.p50Ms / r.echoP50Ms
/** A round's rate over its echo's: the throughput target's ratio. */
const opsRatioOf = (r: RoundFigures): number => r.opsPerSec / r.echoOpsPerSec
/** A round's p50 over its fan-out echo's: what our code adds to the network part of the request. */
const fanOutRatioOf = (r: RoundFigures): number => r.p50Ms / r.fanOutP50Ms!

const startedAt = new Date().toISOString()
const machine = { cpus: availableParallelism(), loadAverage: loadavg() }
const root = mkdtempSync(join(tmpdir(), 'solar-orbit-mesh-'))
const members: Member[] = []
const measuringMs = plans.reduce(
  (sum, plan) =>
    sum +
    plan.rounds * (plan.echoModes.length * 2 + 1 + ops.length) * (plan.durationMs + plan.warmupMs),
  0,
)
const session = await startEchoSession(valueBytes, 2 * measuringMs + 600_000)
try {
  members.push(await spawnMember(join(root, 'a')))
  const bootstrap = members[0]!.addrs[0]!
  members.push(...(await Promise.all(['b', 'c'].map((n) => spawnMember(join(root, n), bootstrap)))))
  const deadline = Date.now() + 60_000
  for (;;) {
    const all = await Promise.all(members.map((m) => m.send({ cmd: 'status' })))
    if (all.every((s) => s.owners === 3 && s.awaiting === 0 && s.peers === 2)) break
    if (Date.now() > deadline) throw new Error(`cluster did not settle: ${JSON.stringify(all)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  const [coordinator, ...replicas] = members as [Member, Member, Member]
  await coordinator.send({ cmd: 'seed', keys, valueBytes })
  for (const { concurrency } of plans) {
    const settle = { durationMs: settleMs / 2, warmupMs: 0, prefix: 'settle' }
    await coordinator.send({ cmd: 'run', op: 'get', concurrency, keys, valueBytes, ...settle })
  }
  const cpuTimes = async (): Promise<number[]> =>
    (await Promise.all(members.map((m) => m.send({ cmd: 'cpu' })))).map(
      (usage) => (usage.user as number) + (usage.system as number),
    )
  const clusterEcho = async (
    targets: Member[],
    mode: EchoMode,
    concurrency: number,
    timing: LoopTiming,
  ) =>
    (await coordinator.send({
      cmd: 'echo',
      mode,
      targets: targets.map((t) => t.id),
      concurrency,
      payloadBytes: valueBytes,
      ...timing,
    })) as unknown as LoopResult

  const baselines: Baseline[] = []
  const samples: Sample[] = []
  for (const plan of plans) {
    const { concurrency } = plan
    const timing: LoopTiming = { durationMs: plan.durationMs, warmupMs: plan.warmupMs }
    console.log(`concurrency ${concurrency}: ${plan.rounds} rounds...`)
    for (let round = 0; round < plan.rounds; round++) {
      const echoes: Baseline['echoes'] = {}
      for (const mode of plan.echoModes) {
        echoes[`processes ${mode}`] = await session.measure(mode, concurrency, timing)
        echoes[`members ${mode}`] = await clusterEcho([replicas[0]], mode, concurrency, timing)
      }
      const fanOut =
        concurrency === 1
          ? await clusterEcho(replicas, 'multiplexed', concurrency, timing)
          : undefined
      const echoList = Object.values(echoes)
      const baseline: Baseline = {
        concurrency,
        echoes,
        ...(fanOut !== undefined && { fanOutP50Ms: fanOut.p50Ms }),
        p50Ms: Math.min(...echoList.map((e) => e.p50Ms)),
        opsPerSec: Math.max(...echoList.map((e) => e.opsPerSec)),
      }
      baselines.push(baseline)
      for (const op of ops) {
        const cpuBefore = await cpuTimes()
        const result = (await coordinator.send({
          cmd: 'run',
          op,
          concurrency,
          keys,
          valueBytes,
          prefix: `${op}-${concurrency}-${round}`,
          ...timing,
        })) as unknown as LoopResult
        const cpuAfter = await cpuTimes()
        if (result.failures > 0)
          console.warn(`${op} at concurrency ${concurrency}: ${result.failures} failed`)
        const cpuUsPerOp = cpuAfter.map((t, i) => (t - cpuBefore[i]!) / result.completed)
        samples.push({ op, concurrency, result, cpuUsPerOp, baseline })
      }
    }
  }

  const rows = ops.flatMap((op) =>
    plans.map(({ concurrency }) => {
      const mine = samples.filter((s) => s.op === op && s.concurrency === concurrency)
      const of = (f: (s: Sample) => number): number => median(mine.map(f))
      /** Each round's figures in order, to show the spread behind the medians. */
      const rounds = mine.map(
        (s): RoundFigures => ({
          p50Ms: s.result.p50Ms,
          opsPerSec: s.result.opsPerSec,
          echoP50Ms: s.baseline.p50Ms,
          echoOpsPerSec: s.baseline.opsPerSec,
          ...(s.baseline.fanOutP50Ms !== undefined && { fanOutP50Ms: s.baseline.fanOutP50Ms }),
        }),
      )
      const fanOut = rounds.every((r) => r.fanOutP50Ms !== undefined)
      return {
        op,
        concurrency,
        opsPerSec: of((s) => s.result.opsPerSec),
        p50Ms: of((s) => s.result.p50Ms),
        p99Ms: of((s) => s.result.p99Ms),
        failures: mine.reduce((n, s) => n + s.result.failures, 0),
        cpuUsPerOp: mine[0]!.cpuUsPerOp.map((_, i) => of((s) => s.cpuUsPerOp[i]!)),
        echoOpsPerSec: of((s) => s.baseline.opsPerSec),
        echoP50Ms: of((s) => s.baseline.p50Ms),
        p50Ratio: median(rounds.map(p50RatioOf)),
        opsRatio: median(rounds.map(opsRatioOf)),
        ...(fanOut && { fanOutP50Ratio: median(rounds.map(fanOutRatioOf)) }),
        rounds,
      }
    }),
  )
  /** Per concurrency, the median over the rounds of each echo and of the fan-out. */
  const echoes = plans.map(({ concurrency }) => {
    const mine = baselines.filter((b) => b.concurrency === concurrency)
    const of = (f: (b: Baseline) => number): number => median(mine.map(f))
    const fanOut = mine.flatMap((b) => (b.fanOutP50Ms === undefined ? [] : [b]))
    return {
      concurrency,
      echoes: Object.fromEntries(
        Object.keys(mine[0]!.echoes).map((name) => [
          name,
          {
            p50Ms: of((b) => b.echoes[name]!.p50Ms),
            opsPerSec: of((b) => b.echoes[name]!.opsPerSec),
          },
        ]),
      ),
      ...(fanOut.length > 0 && {
        fanOutEchoP50Ms: median(fanOut.map((b) => b.fanOutP50Ms!)),
        fanOutEchoRatios: fanOut.map((b) => b.fanOutP50Ms! / b.p50Ms),
      }),
    }
  })

  const load = machine.loadAverage.map((l) => l.toFixed(2)).join(' ')
  console.log(
    `mesh: 3 Node members, N 3 R 2 W 2, 1 KB values, memory storage, ${machine.cpus} CPUs, load ${load}; medians over the rounds (${plans.map((p) => `concurrency ${p.concurrency}: ${p.rounds} rounds of ${p.durationMs} ms per row`).join(', ')})`,
  )
  const table = [
    [
      'op',
      'conc',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'cpu µs/op',
      'echo ops/s',
      'echo p50',
      'p50/echo (rounds)',
      'ops/echo (rounds)',
      'p50/fan-out (rounds)',
    ],
  ]
  /** A median ratio with the lowest and highest of the rounds' ratios it came from. */
  const withRange = (ratio: number, perRound: number[]): string =>
    `${ratio.toFixed(2)} (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`
  for (const r of rows) {
    table.push([
      r.op,
      String(r.concurrency),
      r.opsPerSec.toFixed(0),
      r.p50Ms.toFixed(3),
      r.p99Ms.toFixed(3),
      r.cpuUsPerOp.map((us) => us.toFixed(0)).join('/'),
      r.echoOpsPerSec.toFixed(0),
      r.echoP50Ms.toFixed(3),
      withRange(r.p50Ratio, r.rounds.map(p50RatioOf)),
      withRange(r.opsRatio, r.rounds.map(opsRatioOf)),
      r.fanOutP50Ratio === undefined
        ? ''
        : withRange(r.fanOutP50Ratio, r.rounds.map(fanOutRatioOf)),
    ])
  }
  console.log(formatTable(table))
  const echoTable = [['echo', 'conc', 'ops/s', 'p50 ms']]
  for (const e of echoes) {
    for (const [name, echo] of Object.entries(e.echoes)) {
      echoTable.push([
        name,
        String(e.concurrency),
        echo.opsPerSec.toFixed(0),
        echo.p50Ms.toFixed(3),
      ])
    }
    if (e.fanOutEchoP50Ms !== undefined) {
      const name = 'members fan-out to two, first answer'
      echoTable.push([name, String(e.concurrency), '', e.fanOutEchoP50Ms.toFixed(3)])
    }
  }
  console.log(formatTable(echoTable))
  for (const e of echoes) {
    if (e.fanOutEchoRatios === undefined) continue
    const floor = withRange(median(e.fanOutEchoRatios), e.fanOutEchoRatios)
    console.log(
      `fan-out echo p50 / echo p50 at concurrency ${e.concurrency}: ${floor} (the network part of a quorum request alone, nothing of ours on top)`,
    )
  }
  console.log('targets: p50/echo <= 1.5 at conc 1; ops/echo >= 0.33 at conc 64')
  const dir = join(import.meta.dirname, 'results')
  mkdirSync(dir, { recursive: true })
  const report = {
    startedAt,
    node: process.version,
    machine,
    plans,
    settleMs,
    rows,
    echoes,
  }
  writeFileSync(join(dir, 'mesh.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(`wrote ${join(dir, 'mesh.json')}`)
} finally {
  await session.stop()
  await Promise.all(
    members.map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.child.exitCode !== null) return resolve()
          m.child.once('exit', () => resolve())
          m.child.kill('SIGTERM')
          setTimeout(() => m.child.kill('SIGKILL'), 5000).unref()
        }),
    ),
  )
  rmSync(root, { recursive: true, force: true })
}
