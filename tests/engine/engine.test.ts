/**
 * The real Pulumi engine, offline: preview, up, a no-op up, an up after changed settings, an up whose
 * check fails, and destroy of a lab stack. The engine, the Node language host, the program and the
 * command provider run for real: the checks are the same remote.Command resources the ovh and do
 * stacks run, over real SSH into the lab's hosts, and `up` succeeds only if they pass.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readHostState, startService, stopService } from "../../lab/machine";
import type { LabHost, LabSpec } from "../../lab/machine";
import { labUnavailableReason } from "../../lab/runtime";

const root = path.resolve(__dirname, "../..");
// Builds (or finds) the CLI, the language host and the command provider; seconds when up to date.
const toolchain = labUnavailableReason() ? undefined : spawnSync("bash", [path.join(root, "scripts/build-pulumi.sh")], { encoding: "utf8", timeout: 1800000 });
const unavailable = labUnavailableReason() ?? (toolchain?.status === 0 ? undefined : `the Pulumi toolchain is not available: ${(toolchain?.stderr || toolchain?.stdout || "").trim().split("\n").slice(-3).join(" / ")} (npm run setup builds it)`);
if (unavailable) console.warn(`\n!!! SKIPPED: the engine tests did NOT run: ${unavailable} !!!\n`);
const maybe = unavailable ? describe.skip : describe;

// A stack of its own, on a network of its own, so a lab you started by hand is never touched.
const stack = `ci${process.pid.toString(36)}`.slice(0, 9);
const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
const backend = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-engine-"));
const labDir = path.join(root, ".state", "lab", `pl-${stack}`.slice(0, 12));

function pulumi(action: string, args: string[] = [], timeoutMs = 600000) {
    const result = spawnSync("bash", [path.join(root, "scripts/pulumi-lab.sh"), action, ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: timeoutMs,
        env: { ...process.env, LAB_STACK: stack, PULUMI_BACKEND_URL: `file://${backend}` },
    });
    return { status: result.status, out: `${result.stdout}\n${result.stderr}` };
}

const outputs = () => JSON.parse(pulumi("output").out.split("\n\n")[0] || "{}");
const leftovers = () => ({
    namespaces: spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`redis-ha-${stack}-`)),
    link: spawnSync("ip", ["link", "show", `rl-pl-${stack}`.slice(0, 15)], { encoding: "utf8" }).status === 0,
});
const hostName = (i: number) => `redis-ha-${stack}-redis-${i}`;
/** What the engine recorded for a lab host: the lab spec and the host, as the lab's own code takes them. */
function labHost(i: number): { spec: LabSpec; host: LabHost } {
    const state = JSON.parse(pulumi("pulumi", ["stack", "export"]).out.split("\n\n")[0]);
    const resource = state.deployment.resources.find((r: { outputs?: { kind?: string; name?: string } }) => r.outputs?.kind === "host" && r.outputs?.name === hostName(i));
    return JSON.parse(resource.outputs.request);
}
const processes = (i: number) => readHostState({ dir: labDir }, hostName(i))?.processes;
const nftRuleset = (i: number) => spawnSync("ip", ["netns", "exec", hostName(i), "nft", "list", "ruleset"], { encoding: "utf8" }).stdout;
const healthy = (master: string) => ({ ok: true, agreedMaster: master, replicasOnline: 2, failures: [] });

maybe("pulumi on the lab stack", () => {
    beforeAll(() => {
        fs.writeFileSync(stackFile, [
            "config:",
            "  redis-ha:cloud: lab",
            "  redis-ha:region: lab",
            "  redis-ha:privateNetworkCidr: 10.43.0.0/24",
            "  redis-ha:appCidrs:",
            "    - 10.43.0.192/27",
            "  redis-ha:adminCidrs:",
            "    - 10.43.0.224/28",
            "  redis-ha:maxmemory: 64mb",
            '  redis-ha:checkTimeoutSeconds: "60"',
            "",
        ].join("\n"));
    });
    afterAll(() => {
        // Whatever happened above: nothing of this stack may survive the test.
        if (leftovers().namespaces.length > 0 || leftovers().link) pulumi("destroy");
        pulumi("rm");
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(backend, { recursive: true, force: true });
        fs.rmSync(path.join(root, ".state", "lab", `secrets-${stack}.json`), { force: true });
    }, 300000);

    test("preview plans the lab network, three hosts and three remote.Command checks, and creates nothing", () => {
        const { status, out } = pulumi("preview");
        expect(out).toMatch(/\+ 11 to create/);
        expect(out.match(/\+ +command:remote:Command +redis-ha-\S+-check/g)).toHaveLength(3);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
    }, 300000);

    test("up creates the hosts, and the remote.Command checks over SSH prove the quorum", () => {
        const { status, out } = pulumi("up");
        if (status !== 0) throw new Error(out);
        expect(out).toMatch(/\+ 11 created/);
        expect(out).toMatch(/command:remote:Command redis-ha-\S+-redis-0-check created/);
        const shown = outputs();
        expect(shown.health).toEqual([0, 1, 2].map(() => healthy("10.43.0.11:6379")));
        expect(shown.sentinelEndpoints).toEqual(["10.43.0.11:26379", "10.43.0.12:26379", "10.43.0.13:26379"]);
        expect(shown.clientEnvironment).toBe("[secret]");
        expect(leftovers().namespaces.sort()).toEqual(["admin", "app", "net", "outsider", "redis-0", "redis-1", "redis-2"].map((n) => `redis-ha-${stack}-${n}`).sort());
        // The key the checks log in with, and the passwords in the user-data, are in the state only as secrets.
        const exported = pulumi("pulumi", ["stack", "export"]).out;
        expect(exported).not.toContain("PRIVATE KEY");
        const generated = JSON.parse(fs.readFileSync(path.join(root, ".state", "lab", `secrets-${stack}.json`), "utf8"));
        expect(exported).not.toContain(generated.redisPassword);
        expect(exported).not.toContain(generated.sentinelPassword);
    }, 600000);

    test("a second up changes nothing and replaces no host", () => {
        const { status, out } = pulumi("up");
        expect(status).toBe(0);
        expect(out).not.toMatch(/replaced|created|deleted|updated/);
    }, 600000);

    test("changed settings: preview shows the in-place diff and changes nothing; up applies it to the running hosts, outputs intact", () => {
        const before = [0, 1, 2].map(processes);
        // maxmemory reaches no lab resource yet (the hosts' user-data is first-boot only); a new
        // application CIDR changes every host's firewall, which the hosts take in place.
        for (const args of [["redis-ha:maxmemory", "96mb"], ["--path", "redis-ha:appCidrs[1]", "10.99.0.0/24"]]) {
            expect(pulumi("pulumi", ["config", "set", ...args]).status).toBe(0);
        }
        const preview = pulumi("preview", ["--diff"]);
        expect(preview.status).toBe(0);
        expect(preview.out).toMatch(/~ 3 to update/);
        expect(preview.out).not.toMatch(/to (create|delete|replace)/);
        expect(preview.out).toMatch(/\+ +tcp dport 6379 ip saddr 10\.99\.0\.0\/24 accept/);
        expect(nftRuleset(0)).not.toContain("10.99.0.0/24");

        const { status, out } = pulumi("up");
        if (status !== 0) throw new Error(out);
        expect(out).toMatch(/~ 3 updated/);
        expect(out).not.toMatch(/replaced|created|deleted/);
        for (const i of [0, 1, 2]) expect(nftRuleset(i)).toMatch(/tcp dport 6379 ip saddr 10\.99\.0\.0\/24 accept/);
        // The same processes: no host was torn down or restarted.
        expect([0, 1, 2].map(processes)).toEqual(before);
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy("10.43.0.11:6379")));
    }, 600000);

    test("an up whose check fails fails with the check's own words, naming the node and the fact", async () => {
        const { spec, host } = labHost(2);
        await stopService(spec, host.namespace, "sentinel", "SIGTERM");
        try {
            // A shorter budget changes the check script, so the checks run again now.
            expect(pulumi("pulumi", ["config", "set", "redis-ha:checkTimeoutSeconds", "30"]).status).toBe(0);
            const { status, out } = pulumi("up");
            expect(status).not.toBe(0);
            expect(out).toMatch(new RegExp(`redis-ha check failed on ${hostName(0)} after \\d+ attempts`));
            expect(out).toContain("sentinel 10.43.0.13:26379 cannot name master redis-ha: Could not connect to Redis at 10.43.0.13:26379: Connection refused");
        } finally {
            await startService(spec, host, "sentinel");
        }
    }, 600000);

    test("destroy leaves nothing behind", () => {
        const { status, out } = pulumi("destroy");
        expect(out).toMatch(/- 11 deleted/);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
        expect(fs.existsSync(labDir)).toBe(false);
    }, 300000);
});
