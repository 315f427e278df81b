// Contender: the TypeScript client's live latency, the twin of dsx's
// examples/latency.rs. One process creates a fresh JSON stream, opens a
// live read (SSE or long-poll), waits until it is up to date, then appends
// COUNT+WARMUP messages of ~100 bytes every INTERVAL ms, each carrying its
// sequence number, and records when the reader sees each one.
// Usage: node latency.mjs --url STREAM_URL [--mode sse|long-poll]
//          [--count 200] [--warmup 10] [--interval-ms 10]
// Prints {"client":"ts","mode":..,"n":..,"p50_ms":..,"p99_ms":..,"max_ms":..}
import { DurableStream } from "@durable-streams/client"
import { performance } from "node:perf_hooks"
import { setTimeout as sleep } from "node:timers/promises"

const opts = { mode: "sse", count: 200, warmup: 10, "interval-ms": 10 }
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "")
  if (!(key in opts) && key !== "url") throw new Error(`unknown flag ${argv[i]}`)
  opts[key] = key === "url" || key === "mode" ? argv[i + 1] : Number(argv[i + 1])
}
if (!opts.url) throw new Error("--url is required")
const total = opts.count + opts.warmup

const handle = await DurableStream.create({
  url: opts.url,
  contentType: "application/json",
  warnOnHttp: false,
})
const sent = new Array(total).fill(null)
const latency = new Array(total).fill(null)
let seen = 0
let done
const allSeen = new Promise((resolve) => (done = resolve))

const res = await handle.stream({ live: opts.mode, json: true })
res.subscribeJson((batch) => {
  const now = performance.now()
  for (const item of batch.items) {
    latency[item.seq] = now - sent[item.seq]
    seen += 1
  }
  if (seen === total) done()
})
for (let i = 0; !res.upToDate; i++) {
  if (i > 2000) throw new Error("the live read never caught up")
  await sleep(5)
}

const pad = "x".repeat(60)
let next = performance.now()
for (let seq = 0; seq < total; seq++) {
  next += opts["interval-ms"]
  const wait = next - performance.now()
  if (wait > 0) await sleep(wait)
  else next = performance.now()
  sent[seq] = performance.now()
  await handle.append(JSON.stringify({ seq, pad }))
}
const timer = setTimeout(() => {
  console.error(`messages missing after 30 s: saw ${seen} of ${total}`)
  process.exit(1)
}, 30_000)
await allSeen
clearTimeout(timer)
res.cancel()

const ms = latency.slice(opts.warmup).sort((a, b) => a - b)
const pct = (p) => ms[Math.min(ms.length, Math.max(1, Math.ceil(p * ms.length))) - 1]
console.log(
  JSON.stringify({
    client: "ts",
    mode: opts.mode,
    n: ms.length,
    p50_ms: +pct(0.5).toFixed(3),
    p99_ms: +pct(0.99).toFixed(3),
    max_ms: +ms[ms.length - 1].toFixed(3),
  }),
)
await handle.delete().catch(() => {})
process.exit(0)
