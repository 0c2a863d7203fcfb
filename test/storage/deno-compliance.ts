/**
 * Runs the storage compliance cases against the filesystem storage under Deno (or Node): the Deno
 * runner of issue 3. `fs-deno.test.ts` spawns `deno run -A test/storage/deno-compliance.ts`; run it
 * by hand the same way. Prints `ok <name>` or `not ok <name>: <error>` per case, then `passed N/M`,
 * and exits non-zero when a case failed.
 */
import process from 'node:process'
import { complianceCases } from './compliance-cases.ts'
import { fsHarness } from './fs-helpers.ts'

let passed = 0
for (const c of complianceCases) {
  try {
    await c.run(fsHarness)
    passed++
    console.log(`ok ${c.name}`)
  } catch (e) {
    console.log(`not ok ${c.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
}
const runtime = 'Deno' in globalThis ? 'deno' : 'node'
console.log(`passed ${passed}/${complianceCases.length} on ${runtime}`)
process.exitCode = passed === complianceCases.length ? 0 : 1
