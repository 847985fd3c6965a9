/**
 * The real Pulumi engine, offline: `pulumi preview`, `up` and `destroy` of a lab stack. The engine,
 * the Node language host and the program run for real; the stack's checks must pass for `up` to
 * succeed, and `destroy` must leave no namespace, link or process behind.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labUnavailableReason } from "../../lab/runtime";

const root = path.resolve(__dirname, "../..");
const hasPulumi = spawnSync("sh", ["-c", `command -v pulumi || test -x ${root}/.tools/pulumi/bin/pulumi`]).status === 0;
const unavailable = labUnavailableReason() ?? (hasPulumi ? undefined : "no pulumi CLI (npm run setup builds one)");
if (unavailable) console.warn(`\n!!! SKIPPED: the engine tests did NOT run: ${unavailable} !!!\n`);
const maybe = unavailable ? describe.skip : describe;

// A stack of its own, on a network of its own, so a lab you started by hand is never touched.
const stack = `ci${process.pid.toString(36)}`.slice(0, 9);
const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
const backend = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-engine-"));

function pulumi(action: string, timeoutMs = 600000) {
    const result = spawnSync("bash", [path.join(root, "scripts/pulumi-lab.sh"), action], {
        cwd: root,
        encoding: "utf8",
        timeout: timeoutMs,
        env: { ...process.env, LAB_STACK: stack, PULUMI_BACKEND_URL: `file://${backend}` },
    });
    return { status: result.status, out: `${result.stdout}\n${result.stderr}` };
}

const leftovers = () => ({
    namespaces: spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`redis-ha-${stack}-`)),
    link: spawnSync("ip", ["link", "show", `rl-pl-${stack}`.slice(0, 15)], { encoding: "utf8" }).status === 0,
});

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

    test("preview plans the lab network, three hosts and three checks", () => {
        const { status, out } = pulumi("preview");
        expect(out).toMatch(/\+ 11 to create/);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
    }, 300000);

    test("up creates the hosts, and the checks over SSH prove the quorum", () => {
        const { status, out } = pulumi("up");
        if (status !== 0) throw new Error(out);
        expect(out).toMatch(/\+ 11 created/);
        const outputs = JSON.parse(pulumi("output").out.split("\n\n")[0] || "{}");
        expect(outputs.health).toHaveLength(3);
        for (const report of outputs.health) expect(report).toEqual({ ok: true, agreedMaster: "10.43.0.11:6379", replicasOnline: 2, failures: [] });
        expect(outputs.sentinelEndpoints).toEqual(["10.43.0.11:26379", "10.43.0.12:26379", "10.43.0.13:26379"]);
        expect(outputs.clientEnvironment).toBe("[secret]");
        expect(leftovers().namespaces.sort()).toEqual(["admin", "app", "net", "outsider", "redis-0", "redis-1", "redis-2"].map((n) => `redis-ha-${stack}-${n}`).sort());
    }, 600000);

    test("a second up changes nothing and replaces no host", () => {
        const { status, out } = pulumi("up");
        expect(status).toBe(0);
        expect(out).not.toMatch(/replaced|created|deleted/);
    }, 600000);

    test("destroy leaves nothing behind", () => {
        const { status, out } = pulumi("destroy");
        expect(out).toMatch(/- 11 deleted/);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
    }, 300000);
});
