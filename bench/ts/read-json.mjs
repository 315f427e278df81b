// Contender: the TypeScript client's catch-up read of a JSON stream.
// Usage: node read-json.mjs STREAM_URL
// Reads every message (parsed by the client, as its JSON API hands them
// out) until up to date and prints how many there were.
import { stream } from "@durable-streams/client"

const url = process.argv[2]
if (!url) throw new Error("usage: read-json.mjs STREAM_URL")

const res = await stream({ url, live: false, json: true, warnOnHttp: false })
let count = 0
// `res.closed` may resolve before the subscriber has seen the last batch;
// the batch that reports up-to-date is the end of a catch-up read.
await new Promise((resolve, reject) => {
  res.closed.catch(reject)
  res.subscribeJson((batch) => {
    count += batch.items.length
    if (batch.upToDate || batch.streamClosed) resolve()
  })
})
process.stdout.write(`${count}\n`)
