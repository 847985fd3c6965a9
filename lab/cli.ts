/**
 * npm run lab -- up [--stack lab] | status | down
 * Brings the stack's topology up on this machine, reruns its checks, or removes everything it made.
 */
import { Lab, labNamespaces, labUnavailableReason, removeNamespaces } from "./runtime";
import { parseCommandLine, runMain } from "../scripts/lib/cli";

export function parseLabArgs(argv: string[]): { command: string | undefined; stack: string; positional: string[] } {
    const { values, positionals } = parseCommandLine({ args: argv, options: { stack: { type: "string", short: "s", default: "lab" } }, allowPositionals: true }, "npm run lab -- COMMAND [--stack NAME]");
    const [command, ...positional] = positionals;
    return { command, stack: values.stack ?? "lab", positional };
}

function usage(): never {
    console.error("usage: npm run lab -- up|status|down [--stack NAME]\n       npm run lab -- crash|start HOST redis|sentinel [--stack NAME]");
    process.exit(64);
}

async function main(): Promise<number> {
    let parsed: ReturnType<typeof parseLabArgs>;
    try {
        parsed = parseLabArgs(process.argv.slice(2));
    } catch {
        usage();
    }
    const { command, stack, positional } = parsed;
    const log = (line: string) => console.log(line);
    switch (command) {
        case "up": {
            const started = Date.now();
            const lab = await Lab.up({ stack, log });
            console.log(`\nlab ${lab.id} is up and healthy after ${((Date.now() - started) / 1000).toFixed(1)} s. Left out, as on no VM they would be:`);
            for (const line of lab.skipped) console.log(`  - skipped ${line}`);
            console.log(`\n${lab.table(await lab.check(10))}`);
            console.log(`\nnamespaces: ${lab.network.app.namespace} (app, ${lab.network.app.address}), ${lab.network.outsider.namespace} (outsider, ${lab.network.outsider.address}), ${lab.network.admin.namespace} (admin, ${lab.network.admin.address})`);
            console.log(`try: ip netns exec ${lab.network.app.namespace} redis-cli -h ${lab.plan.master.privateAddress} -p ${lab.settings.redisPort} PING   (NOAUTH: log in with --user operator and the Redis password from ${lab.dir}/secrets.json, root only, in REDISCLI_AUTH)`);
            return 0;
        }
        case "status": {
            const lab = Lab.open({ stack, log });
            if (!lab) {
                console.error(`lab ${stack} is not up; start it with: npm run lab -- up`);
                return 1;
            }
            const check = await lab.check(10);
            console.log(lab.table(check));
            if (!check.ok) {
                console.log(`\nunhealthy:\n  - ${check.failures.join("\n  - ")}`);
                return 1;
            }
            console.log("\nhealthy: every Sentinel names the same master, quorum OK, every replica online");
            return 0;
        }
        case "down": {
            const lab = Lab.open({ stack, log });
            if (lab) {
                await lab.down();
                console.log(`lab ${stack}: every process, namespace and file removed`);
                return 0;
            }
            const unavailable = labUnavailableReason();
            if (unavailable) {
                console.log(`lab ${stack} is not up (nothing to remove)`);
                return 0;
            }
            // No state (removed by hand?): namespaces are still ours by name.
            const stale = labNamespaces(`rha-${stack}`);
            removeNamespaces(stale);
            console.log(stale.length ? `lab ${stack}: removed leftover namespaces ${stale.join(", ")}` : `lab ${stack} is not up (nothing to remove)`);
            return 0;
        }
        case "crash":
        case "start": {
            // The failover drill: SIGKILL a service (a crash, not a clean shutdown), or start it again.
            const [host, kind] = positional;
            if (!host || (kind !== "redis" && kind !== "sentinel")) usage();
            const lab = Lab.open({ stack, log });
            if (!lab) {
                console.error(`lab ${stack} is not up; start it with: npm run lab -- up`);
                return 1;
            }
            if (command === "crash") await lab.stop(host, kind, "SIGKILL");
            else await lab.start(host, kind);
            console.log(`${host}: ${kind} ${command === "crash" ? "killed (SIGKILL)" : "started"}`);
            return 0;
        }
        default:
            usage();
    }
}

if (require.main === module) runMain(main);
