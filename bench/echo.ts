/**
 * `npm run bench -- echo [--duration-ms N] [--payload-bytes N]`: the raw libp2p echo baseline (two Node
 * processes, TCP loopback, noise + yamux, length-prefixed frames). Prints a table and writes
 * `bench/results/echo.json`. See `_echo-baseline.ts` for what each mode measures.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { formatEchoTable, measureEchoBaseline } from './_echo-baseline.ts'

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '3000' },
    'payload-bytes': { type: 'string', default: '1024' },
  },
})

const report = await measureEchoBaseline({
  durationMs: Number(values['duration-ms']),
  payloadBytes: Number(values['payload-bytes']),
})
const load = report.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')
console.log(
  `echo baseline: ${report.payloadBytes} B payload, ${report.durationMs} ms per row, Node ${report.node}, ${report.machine.cpus} CPUs, load ${load}`,
)
console.log(formatEchoTable(report))
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'echo.json'), `${JSON.stringify(report, null, 2)}\n`)
console.log(`wrote ${join(dir, 'echo.json')}`)
