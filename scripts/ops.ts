/**
 * Operator commands for what is not a config change, run against a deployed stack over the same SSH
 * the post-deploy checks use (the connection recorded in the stack's state):
 *
 *   npm run ops -- drift --stack NAME        what each node and Sentinel runs that differs from the
 *                                            settings of the last `pulumi up` (exit 0, or 3 on drift)
 *   npm run ops -- switchover --stack NAME   a planned switchover (writes paused, replicas caught
 *                                            up, SENTINEL FAILOVER); refuses an unsettled cluster
 *
 * A lab stack is read through scripts/pulumi-lab.sh (its backend); any other through the `pulumi`
 * on PATH, with the environment you deploy it with (backend, passphrase).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderSwitchoverScript } from "../cloud-init/switchoverScript";
import { parseCommandLine, runMain } from "./lib/cli";

const ROOT = path.resolve(__dirname, "..");

const OPS_USAGE = "npm run ops -- drift|switchover --stack NAME";

export function parseOpsArgs(argv: string[]): { command: "drift" | "switchover"; stack: string } {
    const { values, positionals } = parseCommandLine({ args: argv, options: { stack: { type: "string", short: "s" } }, allowPositionals: true }, OPS_USAGE);
    const [command, ...extra] = positionals;
    if ((command !== "drift" && command !== "switchover") || extra.length > 0 || !values.stack) throw new Error(`usage: ${OPS_USAGE}`);
    return { command, stack: values.stack };
}

/** `pulumi stack export --show-secrets` wraps each secret; this returns the plain values. */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") {
        const object = value as Record<string, unknown>;
        if ("4dabf18193072939515e22adb298388d" in object && "plaintext" in object) return unwrapSecrets(JSON.parse(String(object.plaintext)));
        return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

interface Resource { urn: string; type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }

function exportStack(stack: string): Resource[] {
    const stackFile = path.join(ROOT, `Pulumi.${stack}.yaml`);
    const isLab = fs.existsSync(stackFile) && parse(fs.readFileSync(stackFile, "utf8"))?.config?.["redis-ha:cloud"] === "lab";
    const result = isLab
        ? spawnSync("bash", [path.join(ROOT, "scripts", "pulumi-lab.sh"), "pulumi", "stack", "export", "--show-secrets"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, LAB_STACK: stack }, maxBuffer: 256 * 1024 * 1024 })
        : spawnSync("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`cannot read stack ${stack}: ${(result.stderr || String(result.error)).trim()}`);
    return unwrapSecrets(JSON.parse(result.stdout).deployment.resources ?? []) as Resource[];
}

/** Runs a script on the host the stack's settings rollout runs on, as it does. */
function runOnRolloutHost(rollout: Resource, script: string): { status: number; stdout: string } {
    const connection = rollout.inputs!.connection as { host: string; user: string; privateKey?: string };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-ops-"));
    try {
        const keyArgs: string[] = [];
        if (connection.privateKey) {
            fs.writeFileSync(path.join(dir, "key"), connection.privateKey.endsWith("\n") ? connection.privateKey : `${connection.privateKey}\n`, { mode: 0o600 });
            keyArgs.push("-i", path.join(dir, "key"), "-o", "IdentitiesOnly=yes");
        }
        const result = spawnSync("ssh", [
            ...keyArgs, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
            `${connection.user}@${connection.host}`, String(rollout.inputs!.create),
        ], { input: script, encoding: "utf8", stdio: ["pipe", "pipe", "inherit"], timeout: 600000 });
        return { status: result.status ?? 1, stdout: result.stdout ?? "" };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function main(): Promise<number> {
    const { command, stack } = parseOpsArgs(process.argv.slice(2));
    const resources = exportStack(stack);
    const rollout = resources.find((r) => r.type === "command:remote:Command" && r.urn.endsWith("-settings"));
    if (!rollout?.inputs) throw new Error(`stack ${stack} has no settings rollout in its state (deployed with checks disabled, or by a redis-ha before it existed): run pulumi up first`);
    const rolloutScript = String(rollout.inputs.stdin);

    if (command === "drift") {
        // The rollout as the last `pulumi up` rendered it, in its read-only mode.
        if (!/^mode=apply$/m.test(rolloutScript)) throw new Error("the recorded rollout script has no mode line; run pulumi up with this redis-ha first");
        const { status, stdout } = runOnRolloutHost(rollout, rolloutScript.replace(/^mode=apply$/m, "mode=report"));
        const lines = stdout.trim().split("\n").filter((l) => !l.startsWith("SAME "));
        console.log(lines.join("\n"));
        if (status !== 0) return status;
        return /^RESULT drift=0$/m.test(stdout) ? 0 : 3;
    }

    const outputs = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
    const nodes = (outputs.nodes ?? []) as Array<{ initialRole: string }>;
    const sentinels = (outputs.sentinelEndpoints ?? []) as string[];
    const hostName = /^#.*from (\S+),/m.exec(rolloutScript)?.[1] ?? "the rollout host";
    const script = renderSwitchoverScript({
        hostName,
        masterName: String(outputs.masterName),
        sentinels,
        expectedReplicas: nodes.filter((n) => n.initialRole !== "sentinel").length - 1,
    });
    const { status, stdout } = runOnRolloutHost(rollout, script);
    console.log(stdout.trim());
    return status;
}

if (require.main === module) runMain(main, 64);
