/**
 * `npm run bench -- mesh [--duration-ms N] [--warmup-ms N] [--settle-ms N]`: quorum requests on a real
 * three-member cluster (three Node processes on TCP loopback, memory storage, N 3, R 2, W 2, 1 KB
 * values), get and put at concurrency 1 and 64, coordinated by one member (so one replica is local, as
 * for an application running on a member), beside the raw libp2p echo baseline measured in the same run
 * (`_echo-baseline.ts`: the faster long-lived-stream mode per concurrency). Prints a table and writes
 * `bench/results/mesh.json`.
 *
 * The members must be warm before anything is measured: their request path keeps getting faster for
 * about ten seconds of load while V8 optimizes it (here the first 2 s of gets at concurrency 1 ran at
 * about 1.5 times the p50 of later ones, on 1.4 times the CPU per request, with no GC difference). So
 * the cluster first serves `settle-ms` of unmeasured gets, half at each concurrency (gets, so that the
 * store does not grow), and then each row measures `duration-ms` after `warmup-ms` of its own. Each
 * row also reports the CPU time each member spent per request (user + system, coordinator first): at
 * concurrency 1 the three members share two CPUs, so CPU per request shows up as latency.
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
import { measureEchoBaseline } from './_echo-baseline.ts'
import { formatTable } from './_table.ts'

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
    'settle-ms': { type: 'string', default: '8000' },
  },
})
const durationMs = Number(values['duration-ms'])
const warmupMs = Number(values['warmup-ms'])
const settleMs = Number(values['settle-ms'])
const concurrencies = [1, 64]
const PEER = join(import.meta.dirname, '_mesh-peer.ts')

interface Member {
  id: string
  addrs: string[]
  child: ChildProcess
  send(command: object, timeoutMs?: number): Promise<Record<string, unknown>>
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
    send: (command, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const n = ++seq
        const timer = setTimeout(() => reject(new Error('mesh peer did not answer')), timeoutMs)
        waiting.set(n, (reply) => {
          clearTimeout(timer)
          waiting.delete(n)
          resolve(reply)
        })
        child.stdin!.write(`${JSON.stringify({ ...command, seq: n })}\n`)
      }),
  }
}

const startedAt = new Date().toISOString()
const machine = { cpus: availableParallelism(), loadAverage: loadavg() }
console.log(`echo baseline (${durationMs} ms per row)...`)
const echo = await measureEchoBaseline({
  durationMs,
  warmupMs: 500,
  concurrencies,
  modes: ['stream-per-worker', 'multiplexed'],
})

const root = mkdtempSync(join(tmpdir(), 'solar-orbit-mesh-'))
const members: Member[] = []
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
  const coordinator = members[0]!
  // Seed the keys the gets read.
  await coordinator.send({ cmd: 'run', op: 'put', prefix: 'seed', valueBytes: 1024, keys: 1000 })
  const ops = ['get', 'put'] as const
  const spec = { cmd: 'run', valueBytes: 1024, keys: 1000 }
  for (const concurrency of concurrencies) {
    const settle = { durationMs: settleMs / 2, warmupMs: 0, prefix: 'settle' }
    await coordinator.send({ ...spec, ...settle, op: 'get', concurrency })
  }
  const cpuTimes = async (): Promise<number[]> =>
    (await Promise.all(members.map((m) => m.send({ cmd: 'cpu' })))).map(
      (usage) => (usage.user as number) + (usage.system as number),
    )
  const rows = []
  for (const op of ops) {
    for (const concurrency of concurrencies) {
      const cpuBefore = await cpuTimes()
      const result = await coordinator.send({
        ...spec,
        op,
        concurrency,
        durationMs,
        warmupMs,
        prefix: `${op}-${concurrency}`,
      })
      const cpuAfter = await cpuTimes()
      if (!result.ok || (result.failures as number) > 0) {
        console.warn(`${op} at concurrency ${concurrency}: ${JSON.stringify(result)}`)
      }
      const base = echo.baseline.find((b) => b.concurrency === concurrency)!
      rows.push({
        op,
        concurrency,
        opsPerSec: result.opsPerSec as number,
        p50Ms: result.p50Ms as number,
        p99Ms: result.p99Ms as number,
        failures: result.failures as number,
        cpuUsPerOp: cpuAfter.map((t, i) => (t - cpuBefore[i]!) / (result.completed as number)),
        echoOpsPerSec: base.opsPerSec,
        echoP50Ms: base.p50Ms,
        echoMode: base.mode,
      })
    }
  }
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
      'p50/echo',
      'ops/echo',
    ],
  ]
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
      (r.p50Ms / r.echoP50Ms).toFixed(2),
      (r.opsPerSec / r.echoOpsPerSec).toFixed(2),
    ])
  }
  const load = machine.loadAverage.map((l) => l.toFixed(2)).join(' ')
  console.log(
    `mesh: 3 Node members, N 3 R 2 W 2, 1 KB values, memory storage, ${durationMs} ms per row, ${machine.cpus} CPUs, load ${load}`,
  )
  console.log(formatTable(table))
  console.log('targets: p50/echo <= 1.5 at conc 1; ops/echo >= 0.33 at conc 64')
  const dir = join(import.meta.dirname, 'results')
  mkdirSync(dir, { recursive: true })
  const report = { startedAt, node: process.version, machine, durationMs, warmupMs, settleMs, rows }
  writeFileSync(join(dir, 'mesh.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(`wrote ${join(dir, 'mesh.json')}`)
} finally {
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
