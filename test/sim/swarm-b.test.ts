/** The swarm, second half: seeds 251 … 500 (see `swarm-run.ts`). */
import { describe } from 'vitest'
import { swarmTest } from './swarm-run.ts'

describe('swarm', () => swarmTest(251, 250))
