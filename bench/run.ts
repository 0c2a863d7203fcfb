/**
 * Benchmark entry: `npm run bench -- <name> [args]` runs `bench/<name>.ts`; with no name it lists them.
 * Each benchmark prints its figures beside a baseline measured in the same run and writes
 * `bench/results/<name>.json`.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = import.meta.dirname
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

const [name, ...rest] = process.argv.slice(2)
if (name === undefined || !available.includes(name)) {
  console.log(`usage: npm run bench -- <${available.join('|')}> [options]`)
  process.exit(name === undefined ? 0 : 2)
}
process.argv = [process.argv[0]!, join(dir, `${name}.ts`), ...rest]
await import(pathToFileURL(join(dir, `${name}.ts`)).href)
