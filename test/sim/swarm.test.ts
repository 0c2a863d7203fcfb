/** The swarm, first half: seeds 1 … 250 (see `swarm-run.ts`). */
import { describe } from 'vitest'
import { swarmTest } from './swarm-run.ts'

describe('swarm', () => swarmTest(1, 250))
