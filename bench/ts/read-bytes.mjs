// Contender: the TypeScript client's catch-up read of a byte stream.
// Usage: node read-bytes.mjs STREAM_URL > sink
// Copies the stream's bytes to stdout (as `dsx read` and curl do) until up
// to date, honouring stdout's backpressure; the byte count goes to stderr.
import { stream } from "@durable-streams/client"
import { once } from "node:events"

const url = process.argv[2]
if (!url) throw new Error("usage: read-bytes.mjs STREAM_URL")

const res = await stream({ url, live: false, warnOnHttp: false })
let bytes = 0
for await (const chunk of res.bodyStream()) {
  bytes += chunk.length
  if (!process.stdout.write(chunk)) await once(process.stdout, "drain")
}
process.stderr.write(`${bytes} bytes\n`)
