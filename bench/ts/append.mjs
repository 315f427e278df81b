// Contender: the TypeScript IdempotentProducer appending JSON messages.
// Usage: node append.mjs STREAM_URL FILE
// Each line of FILE is one JSON message; the stream must exist. Appends
// them all with the client's default batching and pipelining, flushes, and
// prints the number appended.
import { DurableStream, IdempotentProducer } from "@durable-streams/client"
import { readFileSync } from "node:fs"

const [url, file] = process.argv.slice(2)
if (!url || !file) throw new Error("usage: append.mjs STREAM_URL FILE")

const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
const handle = await DurableStream.connect({ url, warnOnHttp: false })
let failure = null
const producer = new IdempotentProducer(handle, `bench-ts-${process.pid}`, {
  onError: (e) => {
    failure ??= e
  },
})
for (const line of lines) producer.append(line)
await producer.flush()
await producer.detach()
if (failure) throw failure
process.stdout.write(`${lines.length}\n`)
