import { runStorageBackendTests } from './compliance.ts'
import { fsHarness } from './fs-helpers.ts'

runStorageBackendTests('filesystem', fsHarness)
