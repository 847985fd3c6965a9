/** How the failover drills turn a client's acknowledgements into the outage it saw and what it can count on. */
import { spawn } from "child_process";
import { Writer, writeOutage } from "../../lab/writers";

test("the outage is the silence around the fault, measured from the last write before it", () => {
    // Writes every 20 ms, the fault at 1050, silence until 3000.
    const acks = [1000, 1020, 1040, 3000, 3020, 3040];
    expect(writeOutage(acks, 1050, 4000)).toEqual({ outageMs: 1960, resumed: true });
});

test("a write still acknowledged just after the fault does not hide the outage that follows", () => {
    // The fault at 1045 caught one write in flight (acknowledged at 1060); then 2 s of nothing.
    const acks = [1000, 1020, 1040, 1060, 3060, 3080];
    expect(writeOutage(acks, 1045, 4000)).toEqual({ outageMs: 2000, resumed: true });
});

test("no outage at all shows as the write interval", () => {
    const acks = Array.from({ length: 100 }, (_, i) => 1000 + i * 20);
    expect(writeOutage(acks, 1500, 3000)).toEqual({ outageMs: 20, resumed: true });
});

test("writes that never came back are reported as not resumed, with the silence so far", () => {
    expect(writeOutage([1000, 1020], 1030, 9020)).toEqual({ outageMs: 8000, resumed: false });
    // One late ack followed by a long silence still is not a resumption.
    expect(writeOutage([1000, 1020, 1040], 1030, 9040)).toEqual({ outageMs: 8000, resumed: false });
});

test("a write counts as confirmed by all only when every replica had it, by one when any did", async () => {
    // The writers' own protocol: "wack <n> <ms> <replicas that had it>".
    const child = spawn("printf", ["ack 1 100\\nwack 1 101 2\\nack 2 120\\nwack 2 121 1\\nack 3 140\\nerr 150 NOREPLICAS\\n"]);
    const writer = new Writer("phpredis", "writes:phpredis", child, 2);
    await new Promise((resolve) => child.on("close", resolve));
    expect(writer.acked).toEqual([1, 2, 3]);
    expect([...writer.confirmed]).toEqual([1, 2]);
    expect([...writer.confirmedByAll]).toEqual([1]);
    expect(writer.errors).toEqual(["err 150 NOREPLICAS"]);
});

test("ioredis's complaint about a Sentinel connection of its own is a client log, not an error; anything else on stderr is an error", async () => {
    // What the failover detector's subscribers print when a Sentinel's host is gone (redis/ioredis#1829),
    // stack trace included, split across writes as a pipe may deliver it; then a real failure.
    const child = spawn("bash", ["-c", [
        "printf '[ioredis] Unhandled error event: Error: connect ETIMEDOUT\\n    at Socket.<anonymous> (Redis.js:196:41)\\n    at Object.onceWrapper' >&2",
        "sleep 0.1",
        "printf ' (node:events:638:28)\\nTypeError: the app broke\\n    at main (app.js:1:1)\\n' >&2",
        "printf 'ack 1 100\\n'",
    ].join("; ")]);
    const writer = new Writer("ioredis", "writes:ioredis", child);
    await new Promise((resolve) => child.on("close", resolve));
    expect(writer.acked).toEqual([1]);
    expect(writer.clientLogs).toEqual(["stderr [ioredis] Unhandled error event: Error: connect ETIMEDOUT"]);
    expect(writer.errors).toEqual(["stderr TypeError: the app broke"]);
});
