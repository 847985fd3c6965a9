// The ioredis writer of the failover drills, run inside the lab's app namespace:
//   ip netns exec <app> node ioredis.mjs '<json config>'
// The client is the stack's own ioredis snippet (the `clients.ioredis` output), imported from the file
// named in the config; it reads its user names and passwords from clientEnvironment (REDIS_USERNAME, REDIS_PASSWORD, ...) like an app.
// Protocol, shared with writer.php: every write RPUSHes the next number to the config's list; the
// writer prints "ack <n> <ms>" when it was acknowledged, "wack <n> <ms> <replicas>" when WAIT 1 then
// confirmed that many replicas (at least one) have it, "err <ms> <message>" on failure. Stops on
// SIGTERM or after maxSeconds, then prints "done".
const config = JSON.parse(process.argv[2]);
const { redis } = await import(config.snippetFile);
redis.on("error", () => undefined); // reported per command below

let stopping = false;
process.on("SIGTERM", () => (stopping = true));
const deadline = Date.now() + config.maxSeconds * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const oneLine = (e) => String(e?.message ?? e).split("\n")[0];

let n = 0;
while (!stopping && Date.now() < deadline) {
    n += 1;
    try {
        await redis.rpush(config.key, String(n));
        process.stdout.write(`ack ${n} ${Date.now()}\n`);
        // WAIT 1, the measure: one replica is all that it promises. It returns as soon as one
        // answers, so a 1 ms WAIT for every replica follows; a write they all have survives any failover
        // (Sentinel promotes one of them).
        let replicas = Number(await redis.call("WAIT", "1", String(config.waitMs)));
        if (replicas >= 1 && replicas < config.replicas) replicas = Math.max(replicas, Number(await redis.call("WAIT", String(config.replicas), "1")));
        if (replicas >= 1) process.stdout.write(`wack ${n} ${Date.now()} ${replicas}\n`);
    } catch (e) {
        process.stdout.write(`err ${Date.now()} ${oneLine(e)}\n`);
    }
    await sleep(config.intervalMs);
}
redis.disconnect();
process.stdout.write("done\n");
process.exit(0);
