/** Prints the hash vectors as computed under Deno, as JSON on one line. */
import { hashVectors } from './hash-vectors.ts'

console.log(JSON.stringify(hashVectors()))
