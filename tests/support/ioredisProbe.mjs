// A client under test, reporting what it does rather than how fast: imports the ioredis snippet
// named on the command line and prints one line per client event ("event <name> [message]").
// Each "write" line on stdin sends one SET and prints "write ok <status>" or
// "write err <message> | <status>", the status being the client's state right after the reply.
const { redis } = await import(process.argv[2]);
const say = (line) => process.stdout.write(`${line}\n`);
for (const name of ["connect", "ready", "close", "reconnecting", "end"]) redis.on(name, () => say(`event ${name}`));
redis.on("error", (e) => say(`event error ${String(e?.message ?? e).split("\n")[0]}`));
let buffered = "";
process.stdin.on("data", async (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) !== -1) {
        const command = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (command !== "write") continue;
        try {
            await redis.set("probe", String(Date.now()));
            say(`write ok ${redis.status}`);
        } catch (e) {
            say(`write err ${String(e?.message ?? e).split("\n")[0]} | ${redis.status}`);
        }
    }
});
process.stdin.on("end", () => { redis.disconnect(); process.exit(0); });
