/**
 * `npm run sim`: runs the deterministic cluster simulation over many seeds and prints a summary;
 * a failing seed prints itself and replays exactly with `--seed N`.
 *
 *   npm run sim -- --seeds 1000            seeds 1 … 1000 (or --from S to start elsewhere)
 *   npm run sim -- --seed 42 [--trace]     one seed: its schedule, violations and trace hash
 *   npm run sim -- --seeds 200 --json      the summary as JSON
 *   --duration MS                          virtual time under faults per seed (default 6000)
 *   --owners N --guests N                  cluster size (default 5 owners, 1 guest)
 *   --clients N --keys N                   workload (default 4 clients on 6 keys)
 *
 * Exit status: 0 when every seed passed, 1 when one failed, 2 for bad arguments.
 */
import { parseArgs } from 'node:util'
import { addResult, emptySummary, runSeed, type SeedResult } from '../sim/index.ts'

const usage =
  'usage: npm run sim -- [--seeds N] [--from S] [--seed N] [--trace] [--json] [--duration MS] ' +
  '[--owners N] [--guests N] [--clients N] [--keys N]'

function integer(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got ${text}\n${usage}`)
    process.exit(2)
  }
  return value
}

let parsed: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    options: {
      seeds: { type: 'string' },
      from: { type: 'string' },
      seed: { type: 'string' },
      trace: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      duration: { type: 'string' },
      owners: { type: 'string' },
      guests: { type: 'string' },
      clients: { type: 'string' },
      keys: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
}
try {
  parsed = parse()
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`)
  process.exit(2)
}
const { values } = parsed
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const options = {
  durationMs: integer(values.duration, '--duration', 6000),
  cluster: {
    owners: integer(values.owners, '--owners', 5),
    guests: integer(values.guests, '--guests', 1),
  },
  workload: {
    clients: integer(values.clients, '--clients', 4),
    keys: integer(values.keys, '--keys', 6),
  },
}

/** The options that shape a run, as they must be repeated to replay one of its seeds. */
const replayOptions = (['duration', 'owners', 'guests', 'clients', 'keys'] as const)
  .filter((name) => values[name] !== undefined)
  .map((name) => ` --${name} ${values[name]}`)
  .join('')

function printFailure(result: SeedResult): void {
  console.error(`seed ${result.seed} FAILED (${result.violations.length} violations):`)
  for (const v of result.violations.slice(0, 10)) {
    console.error(`  ${v.kind}${v.key === undefined ? '' : ` ${v.key}`}: ${v.message}`)
  }
  console.error(`  replay: npm run sim -- --seed ${result.seed}${replayOptions}`)
}

if (values.seed !== undefined) {
  const seed = integer(values.seed, '--seed', 0)
  const result = await runSeed({
    ...options,
    seed,
    ...(values.trace && { trace: (line: string) => console.log(line) }),
  })
  if (values.json) {
    console.log(JSON.stringify({ ...result, schedule: undefined }, null, 2))
  } else {
    console.log(`seed ${seed}: ${result.ok ? 'ok' : 'FAILED'}`)
    for (const line of result.nemesisLog) console.log(`  nemesis ${line}`)
    console.log(
      `  ${result.operations} operations, ${result.acknowledgedWrites} acknowledged writes, ` +
        `settled ${result.convergenceMs ?? '-'} ms after healing, ${result.maxSiblings} siblings at most, ` +
        `${result.events} events, trace ${result.traceHash}`,
    )
  }
  if (!result.ok) printFailure(result)
  process.exit(result.ok ? 0 : 1)
}

const count = integer(values.seeds, '--seeds', 100)
const from = integer(values.from, '--from', 1)
const summary = emptySummary()
const startedMs = performance.now()
for (let seed = from; seed < from + count; seed++) {
  const result = await runSeed({ ...options, seed })
  addResult(summary, result)
  if (!result.ok) printFailure(result)
  if (!values.json && summary.seeds % 50 === 0) {
    console.error(`${summary.seeds}/${count} seeds, ${summary.failures} failed`)
  }
}
const seconds = (performance.now() - startedMs) / 1000
if (values.json) {
  const { seeds, failures, failedSeeds, acknowledgedWrites, lostAcknowledgedWrites } = summary
  const { maxConvergenceMs, maxSiblings } = summary
  console.log(
    JSON.stringify({
      seeds,
      failures,
      acknowledgedWrites,
      lostAcknowledgedWrites,
      maxConvergenceMs,
      maxSiblings,
      failedSeeds,
    }),
  )
} else {
  console.log(
    `${summary.seeds} seeds (${from}…${from + count - 1}): ${summary.failures} failed` +
      `${summary.failures > 0 ? ` [${summary.failedSeeds.join(', ')}]` : ''}; ` +
      `${summary.acknowledgedWrites} acknowledged writes, ${summary.lostAcknowledgedWrites} lost; ` +
      `settled within ${summary.maxConvergenceMs} ms; at most ${summary.maxSiblings} siblings; ` +
      `${(summary.seeds / seconds).toFixed(2)} seeds/s, ${Math.round(summary.operations / seconds)} ops/s`,
  )
}
process.exit(summary.failures === 0 ? 0 : 1)
