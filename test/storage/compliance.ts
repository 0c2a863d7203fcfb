/**
 * The storage compliance suite every `StorageBackend` implementation runs (memory, filesystem,
 * IndexedDB). Call it from a `*.test.ts` file:
 *
 * ```ts
 * runStorageBackendTests('memory', async (options) => {
 *   const storage = new MemoryStorage(options)
 *   return { storage, teardown: () => storage.close() }
 * })
 * ```
 *
 * `setup` receives {@link HarnessOptions} (limits to configure) and builds a fresh, empty store per
 * case; give `reopen` when the backend persists, so the restart cases run. The cases themselves live
 * in `compliance-cases.ts` (no Vitest there), which lets `deno-compliance.ts` run them under Deno.
 */
import { describe, it } from 'vitest'
import { complianceCases, type HarnessSetup } from './compliance-cases.ts'

export type {
  HarnessOptions,
  HarnessSetup,
  StorageHarness,
} from './compliance-cases.ts'

/**
 * Registers one Vitest test per compliance case under `describe(name)`. Cases that need `reopen`
 * are skipped when `options.persistent` is false.
 */
export function runStorageBackendTests(
  name: string,
  setup: HarnessSetup,
  options: { persistent?: boolean; timeoutMs?: number } = {},
): void {
  const persistent = options.persistent ?? true
  describe(`${name} storage compliance`, () => {
    for (const c of complianceCases) {
      const register = c.needsReopen && !persistent ? it.skip : it
      register(c.name, () => c.run(setup), options.timeoutMs)
    }
  })
}
