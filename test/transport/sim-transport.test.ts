/** Runs the Transport compliance suite against SimNetwork's transports. */
import { SeededRandom } from '../../src/core/index.ts'
import { SimNetwork, SimScheduler } from '../../src/sim/index.ts'
import { runTransportTests } from './compliance.ts'

runTransportTests('SimNetwork', async (count) => {
  const scheduler = new SimScheduler()
  const network = new SimNetwork({
    scheduler,
    random: new SeededRandom(7).fork('network'),
    minDelayMs: 1,
    meanDelayMs: 10,
  })
  const transports = Array.from({ length: count }, (_, i) => network.createTransport(`node-${i}`))
  for (const t of transports) await t.start()
  const id = (i: number): string => transports[i]!.self
  return {
    transports,
    run: (promise) => scheduler.settle(promise),
    cut: async (a, b) => network.cutLink(id(a), id(b)),
    restore: async (a, b) => network.restoreLink(id(a), id(b)),
    settleGossip: async () => {
      await scheduler.runFor(1000)
    },
    teardown: async () => {
      for (const t of transports) await t.stop()
    },
  }
})
