// Test filter: shared data, shared queues and metrics, driven by request header x-op; results come
// back as a JSON local reply. on_configure registers queue "q" (last registrant wins) and defines
// metrics; on_queue_ready drains the queue into the log.
import * as h from "./lib/hostcalls";
export { malloc } from "./lib/hostcalls";

let counter: u32 = 0;
let gauge: u32 = 0;
let histo: u32 = 0;
let queueToken: u32 = 0;

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_configure(root: u32, size: u32): bool {
  counter = h.defineMetric(0, "test.requests_total");
  gauge = h.defineMetric(1, "test.gauge");
  histo = h.defineMetric(2, "test.latency_ms");
  h.defineMetric(3, "test.bad");
  const badType = h.lastStatus;
  queueToken = h.registerQueue("q");
  h.info("configured root=" + root.toString() + " counter=" + counter.toString() + " gauge=" + gauge.toString() + " histogram=" + histo.toString() +
 " badtype=" + badType.toString() + " queue=" + queueToken.toString());
  return true;
}

export function proxy_on_queue_ready(root: u32, token: u32): void {
  for (let i = 0; i < 100; i++) {
    const d = h.dequeue(token);
    if (d === null) break;
    h.info("queue_ready root=" + root.toString() + " token=" + token.toString() + " data=" + d);
  }
  h.info("queue_ready drained status=" + h.lastStatus.toString());
}

function reply(json: string): u32 {
  h.sendLocalResponse(200, "shared", json, ["content-type", "application/json"]);
  return 1;
}

export function proxy_on_request_headers(id: u32, n: u32, eos: u32): u32 {
  const op = h.getHeader(h.MAP_REQUEST, "x-op");
  if (op === null) return 0;
  const key = h.getHeader(h.MAP_REQUEST, "x-key");
  const value = h.getHeader(h.MAP_REQUEST, "x-value");
  if (op == "sd-get") {
    const v = h.sharedGet(key === null ? "" : key);
    return reply("{\"status\":" + h.lastStatus.toString() + ",\"value\":" + (v === null ? "null" : h.jstr(v)) + ",\"cas\":" + (v === null ? "0" : h.lastCas.toString()) + "}");
  }
  if (op == "sd-set") {
    const casH = h.getHeader(h.MAP_REQUEST, "x-cas");
    const cas = casH === null ? 0 : <u32>U32.parseInt(casH);
    const s = h.sharedSet(key === null ? "" : key, value === null ? "" : value, cas);
    return reply("{\"status\":" + s.toString() + "}");
  }
  if (op == "enqueue") {
    const vmId = h.getHeader(h.MAP_REQUEST, "x-vm-id");
    const t = h.resolveQueue(vmId === null ? "" : vmId, key === null ? "q" : key);
    const rs = h.lastStatus;
    const es = h.enqueue(t, value === null ? "" : value);
    const bad = h.enqueue(0xdead, "x");
    return reply("{\"resolve\":" + rs.toString() + ",\"token\":" + t.toString() + ",\"status\":" + es.toString() + ",\"unknown\":" + bad.toString() + "}");
  }
  if (op == "dequeue") {
    const d = h.dequeue(queueToken);
    return reply("{\"status\":" + h.lastStatus.toString() + ",\"data\":" + (d === null ? "null" : h.jstr(d)) + "}");
  }
  if (op == "metrics") {
    const deltaH = h.getHeader(h.MAP_REQUEST, "x-delta");
    const delta = deltaH === null ? <i64>1 : I64.parseInt(deltaH);
    const inc = h.incrementMetric(counter, delta);
    const rec = h.recordMetric(counter, 10);
    const cval = h.getMetric(counter);
    const gset = h.recordMetric(gauge, 42);
    const gdec = h.incrementMetric(gauge, -2);
    const gval = h.getMetric(gauge);
    const hrec = h.recordMetric(histo, 25);
    const hinc = h.incrementMetric(histo, 1);
    h.getMetric(histo);
    const hget = h.lastStatus;
    h.incrementMetric(0x7fff0000, 1);
    const unknown = h.lastStatus;
    return reply("{\"inc\":" + inc.toString() + ",\"rec\":" + rec.toString() + ",\"counter\":" + cval.toString() +
      ",\"gset\":" + gset.toString() + ",\"gdec\":" + gdec.toString() + ",\"gauge\":" + gval.toString() +
      ",\"hrec\":" + hrec.toString() + ",\"hinc\":" + hinc.toString() + ",\"hget\":" + hget.toString() +
      ",\"unknown\":" + unknown.toString() + ",\"ids\":[" + counter.toString() + "," + gauge.toString() + "," + histo.toString() + "]}");
  }
  return 0;
}
