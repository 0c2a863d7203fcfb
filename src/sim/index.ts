/**
 * Deterministic simulation, after FoundationDB's simulator and TigerBeetle's VOPR: a virtual clock and
 * event queue ({@link SimScheduler}) behind the Clock and Scheduler ports, and a network
 * ({@link SimNetwork}) that gives each simulated node a Transport and delays, loses, duplicates,
 * reorders, partitions and clogs its messages. Driven by one seed (`SeededRandom`, forked per node and
 * subsystem), a whole Dynamo cluster runs in one process and a failing seed replays exactly.
 *
 * On top of that kernel: {@link SimCluster} runs nodes of the real membership service, vnodes, KV
 * coordinator and handoff scheduler on crashable memory storage; a {@link Nemesis} applies a fault
 * schedule drawn from the seed (partitions, lossy links, crashes, restarts, wipes, joins, leaves); a
 * {@link Workload} records every client operation; and the checkers decide from that history that no
 * acknowledged write was lost and, after healing, that the cluster converged (`runSeed`,
 * `npm run sim`).
 */

export * from './checker.ts'
export * from './checker-liveness.ts'
export * from './cluster.ts'
export * from './nemesis.ts'
export * from './run.ts'
export * from './sim-network.ts'
export * from './sim-node.ts'
export * from './sim-scheduler.ts'
export { SimTransport } from './sim-transport.ts'
export * from './workload.ts'
