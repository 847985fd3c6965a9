// A client that writes continuously through Sentinel, run inside the lab's app namespace:
//   ip netns exec <app> node writer.js '<json config>'
// Passwords come from REDIS_PASSWORD / REDIS_SENTINEL_PASSWORD, as with the stack's client snippets.
// Every acknowledged write is a value RPUSHed to the list "writes"; each ack is reported on stdout
// as it happens ("ack <n> <ms>"), errors as "err <ms> <message>", so the test process sees progress
// live and can check afterwards that nothing acknowledged is missing. Stops on SIGTERM or after
// maxSeconds, then prints "done".
"use strict";
const Redis = require("ioredis");

const config = JSON.parse(process.argv[2]);
const redis = new Redis({
    sentinels: config.sentinels,
    name: config.masterName,
    password: process.env.REDIS_PASSWORD,
    sentinelPassword: process.env.REDIS_SENTINEL_PASSWORD,
    ...config.options,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
    reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
});
redis.on("error", () => undefined); // reported per command below

let stopping = false;
process.on("SIGTERM", () => (stopping = true));
const deadline = Date.now() + config.maxSeconds * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
    let n = 0;
    while (!stopping && Date.now() < deadline) {
        n += 1;
        try {
            await redis.rpush("writes", String(n));
            process.stdout.write(`ack ${n} ${Date.now()}\n`);
        } catch (e) {
            process.stdout.write(`err ${Date.now()} ${String(e.message).split("\n")[0]}\n`);
        }
        await sleep(config.intervalMs);
    }
    redis.disconnect();
    process.stdout.write("done\n");
    process.exit(0);
})();
