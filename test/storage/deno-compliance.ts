/**
 * Runs the storage compliance cases against the filesystem storage under Deno (or Node): the Deno
 * runner of issue 3. `fs-deno.test.ts` spawns `deno run -A test/storage/deno-compliance.ts`; run it
 * by hand the same way. Prints `ok <name>` or `not ok <name>: <error>` per case, then `passed N/M`,
 * and exits non-zero when a case failed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { FsStorage } from '../../src/storage/fs/index.ts'
import { complianceCases, type HarnessSetup } from './compliance-cases.ts'

const setup: HarnessSetup = async (options) => {
  const dir = await mkdtemp(join(tmpdir(), 'orbit-deno-'))
  const init = { ...options, dir, segmentBytesMax: 64 * 1024 }
  const opened = [await FsStorage.open(init)]
  return {
    storage: opened[0]!,
    reopen: async () => {
      const s = await FsStorage.open(init)
      opened.push(s)
      return s
    },
    teardown: async () => {
      for (const s of opened) await s.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

let passed = 0
for (const c of complianceCases) {
  try {
    await c.run(setup)
    passed++
    console.log(`ok ${c.name}`)
  } catch (e) {
    console.log(`not ok ${c.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
}
const runtime = 'Deno' in globalThis ? 'deno' : 'node'
console.log(`passed ${passed}/${complianceCases.length} on ${runtime}`)
process.exitCode = passed === complianceCases.length ? 0 : 1
