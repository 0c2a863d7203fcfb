/**
 * Property tests run from one fixed seed, so CI is reproducible and a failure replays exactly.
 * `FAST_CHECK_SEED=<n> npm test` replays or explores another seed; `FAST_CHECK_SEED=random` draws a
 * fresh one each run (fast-check prints it with any counterexample).
 */
import fc from 'fast-check'

const configured = process.env.FAST_CHECK_SEED
if (configured !== 'random') {
  const seed = configured === undefined ? 20261125 : Number(configured)
  if (!Number.isInteger(seed))
    throw new Error(`FAST_CHECK_SEED must be an integer or "random", got ${configured}`)
  fc.configureGlobal({ seed })
}
