/** The error `run` rejects with; throws when it resolves instead. */
export async function rejection(run: Promise<unknown>): Promise<unknown> {
  try {
    await run
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}
