/**
 * The package as a consumer gets it: `npm pack`, then every program under examples/ is copied to a
 * directory of its own, installs the tarball (never a path into this tree), type-checks against the
 * declarations the package ships and runs: each cloud under Pulumi's mocks, the lab on the real
 * engine through the post-deploy checks (destroyed after its project directory has moved), and a
 * Pulumi YAML program that declares the RedisHa component through the package's plugin, on the
 * real engine too.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineLabStack } from "../../lab/engineStack";
import { labUnavailableReason } from "../../lab/runtime";
import { runAsync } from "../../components/platforms/lab/shell";
import { HeavyLock } from "../../vm/runtime";

const root = path.resolve(__dirname, "../..");
// The package's name in the path on purpose: Pulumi's serialisation of a dynamic provider that uses
// a module of an installed package goes wrong there (components/guard.ts says how it is avoided).
const work = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-examples-"));
let tarball = "";

// The machine's Node and the maintained releases setup installs (tools/node-versions): a consumer's program runs on theirs.
const EXTRA_NODES = fs.readFileSync(path.join(root, "tools/node-versions"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
const NEWEST_NODE = EXTRA_NODES[EXTRA_NODES.length - 1];
function nodeBin(version: string): string {
    const bin = path.join(root, ".tools/node", version, "bin");
    if (!fs.existsSync(path.join(bin, "node"))) throw new Error(`Node ${version} is not in ${bin}: npm run setup installs it`);
    return bin;
}
const envWithNode = (version?: string): NodeJS.ProcessEnv => (version ? { ...process.env, PATH: `${nodeBin(version)}:${process.env.PATH}` } : process.env);

async function inWork(argv: string[], cwd: string, timeoutMs: number, node?: string): Promise<string> {
    const result = await runAsync(["bash", "-c", `cd "$1" && shift && exec "$@"`, "bash", cwd, ...argv], { timeoutMs, env: envWithNode(node) });
    if (result.status !== 0) throw new Error(`${argv.join(" ")} in ${cwd} exited ${result.status}:\n${(result.stderr || result.stdout).trim().split("\n").slice(-25).join("\n")}`);
    return result.stdout;
}

/** Copies an example out of the tree and installs the packed package into it, as `npm install redis-ha` would. */
async function installExample(name: string): Promise<string> {
    const dir = path.join(work, name);
    fs.cpSync(path.join(root, "examples", name), dir, { recursive: true });
    // --prefer-offline: the SDKs are the ones `npm run setup` already fetched into npm's cache.
    await inWork(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir, 300000);
    await inWork(["npx", "tsc", "--noEmit", "-p", "."], dir, 180000);
    return dir;
}

beforeAll(async () => {
    const out = await inWork(["npm", "pack", "--silent", "--pack-destination", work], root, 180000);
    tarball = path.join(work, out.trim().split("\n").pop()!);
}, 200000);

afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
    test("ships the compiled components, their declarations and nothing of the tests, the lab drills or the benches", async () => {
        const listing = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        expect(listing).toContain("package/dist/components/index.js");
        expect(listing).toContain("package/dist/components/index.d.ts");
        expect(listing).toContain("package/dist/components/platforms/lab/engine.js");
        expect(listing).toContain("package/plugin/PulumiPlugin.yaml");
        // plugin/index.ts is what the schema analyzer reads (it re-exports a declaration); no other source ships.
        expect(listing.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual(["package/plugin/index.ts"]);
        expect(listing.filter((f) => /^package\/(tests|lab|bench|vm|scripts|stack|examples)\//.test(f) || f.includes("/dist/lab/"))).toEqual([]);
        const manifest = JSON.parse(spawnSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }).stdout);
        expect(manifest.private).toBeUndefined();
        expect(Object.keys(manifest.dependencies)).toEqual(["yaml"]);
        expect(manifest.peerDependenciesMeta).toEqual({ "@pulumi/openstack": { optional: true }, "@ovhcloud/pulumi-ovh": { optional: true }, "@pulumi/digitalocean": { optional: true } });
    });
});

describe("examples under Pulumi's mocks", () => {
    test.each([
        ["ovh", "instances"],
        ["digitalocean", "droplets"],
    ])("%s: installs with only its cloud's SDK and builds one node per zone behind the firewall, on every supported Node", async (name, vms) => {
        const dir = await installExample(name);
        const others = name === "ovh" ? ["@pulumi/digitalocean"] : ["@pulumi/openstack", "@ovhcloud/pulumi-ovh"];
        for (const sdk of others) expect(fs.existsSync(path.join(dir, "node_modules", sdk))).toBe(false);
        for (const node of [undefined, ...EXTRA_NODES]) {
            const out = await inWork(["bash", "-c", "node --version && npm test --silent"], dir, 180000, node);
            expect(out.split("\n")[0]).toBe(node ? `v${node}` : process.version);
            const summary = JSON.parse(out.trim().split("\n").pop()!);
            expect(summary[vms]).toBe(3);
            expect(summary.firewallRules).toBeGreaterThan(0);
        }
    }, 600000);
});

const unavailable = labUnavailableReason() ?? (spawnSync("bash", [path.join(root, "scripts/build-pulumi.sh")], { encoding: "utf8", timeout: 1800000 }).status === 0 ? undefined : "the Pulumi toolchain is not available (npm run setup builds it)");
if (unavailable) console.warn(`\n!!! SKIPPED: the lab example did NOT run on the engine: ${unavailable} !!!\n`);

(unavailable ? describe.skip : describe)(`the lab example on the real engine, on Node ${NEWEST_NODE}`, () => {
    const stack = `ex${process.pid.toString(36)}`.slice(0, 9);
    let lab: EngineLabStack | undefined;

    afterAll(() => lab?.cleanUp(), 600000);

    test("deploys from the installed package, passes the checks, and is destroyed after its directory moved", async () => {
        const dir = await installExample("lab-typescript");
        lab = new EngineLabStack(stack, { projectDir: dir, namePrefix: `cache-${stack}`, labId: `ex-${stack}`, env: envWithNode(NEWEST_NODE) });
        const net = (last: number) => lab!.address(last);
        fs.writeFileSync(lab.stackFile, [
            "config:",
            `  redis-ha-example-lab:privateNetworkCidr: ${net(0)}/24`,
            "  redis-ha-example-lab:appCidrs:",
            `    - ${net(192)}/27`,
            "  redis-ha-example-lab:adminCidrs:",
            `    - ${net(224)}/28`,
            "",
        ].join("\n"));
        for (const key of ["redisPassword", "sentinelPassword"]) {
            expect(lab.pulumi("pulumi", ["config", "set", "--secret", key, `example-${key}-${process.pid}-0123456789`]).status).toBe(0);
        }
        const up = await lab.pulumiAsync("up", [], 900000);
        expect(up.status === 0 ? "" : up.out.split("\n").slice(-40).join("\n")).toBe("");
        const outputs = lab.outputs() as { healthy: boolean; agreedMaster: string; sentinelEndpoints: string[]; phpredis: string; nodeVersion: string };
        expect(outputs.healthy).toBe(true);
        expect(outputs.agreedMaster).toMatch(new RegExp(`^10\\.${lab.octet}\\.0\\.\\d+:6379$`));
        expect(outputs.sentinelEndpoints).toHaveLength(3);
        expect(outputs.phpredis).toContain("RedisSentinel");
        expect(outputs.nodeVersion).toBe(`v${NEWEST_NODE}`);
        expect(lab.leftovers().namespaces).toEqual(expect.arrayContaining([0, 1, 2].map((i) => lab!.hostName(i))));

        // Nothing in the state points into the project: a moved project still destroys its lab.
        lab.moveProject(`${dir}-moved`);
        const destroy = await lab.pulumiAsync("destroy", [], 600000);
        expect(destroy.status === 0 ? "" : destroy.out.split("\n").slice(-40).join("\n")).toBe("");
        expect(lab.leftovers()).toEqual({ namespaces: [], link: false });
        expect(fs.existsSync(lab.labDir)).toBe(false);
    }, 1800000);
});

(unavailable ? describe.skip : describe)(`another language: a Pulumi YAML program on the real engine, on Node ${EXTRA_NODES[0]}`, () => {
    const stack = `ey${process.pid.toString(36)}`.slice(0, 9);
    let lab: EngineLabStack | undefined;
    let lock: HeavyLock | undefined;

    afterAll(async () => {
        lab?.cleanUp();
        await lock?.release();
    }, 600000);

    test("the plugin's schema is the one pinned in plugin/schema.json (npm run plugin:schema regenerates it)", async () => {
        const env = { PATH: `${path.join(root, ".tools/pulumi/bin")}:${process.env.PATH}`, PULUMI_HOME: path.join(root, ".state/pulumi-home"), PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
        // dist/ is fresh: npm pack built it.
        const result = await runAsync(["bash", "-c", `cd "${root}" && pulumi package get-schema ./plugin; status=$?; rm -f plugin/package-lock.json; exit $status`], { timeoutMs: 180000, env: { ...process.env, ...env } });
        expect(result.status === 0 ? "" : result.stderr).toBe("");
        expect(JSON.parse(result.stdout)).toEqual(JSON.parse(fs.readFileSync(path.join(root, "plugin/schema.json"), "utf8")));
    }, 200000);

    test("declares RedisHa, passes the checks through the plugin of the installed package, and is destroyed", async () => {
        const dir = path.join(work, "lab-yaml");
        fs.cpSync(path.join(root, "examples", "lab-yaml"), dir, { recursive: true });
        await inWork(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir, 300000);
        // The example's hosts are named after its one resource, "cache": another run on this machine waits its turn.
        lock = await HeavyLock.acquire("/tmp/redis-ha-yaml-example.lock", 20 * 60 * 1000, (line) => console.log(line));
        lab = new EngineLabStack(stack, { projectDir: dir, namePrefix: "cache", labId: `ey-${stack}`, env: envWithNode(EXTRA_NODES[0]) });
        const net = (last: number) => lab!.address(last);
        for (const [key, value] of [["privateNetworkCidr", `${net(0)}/24`], ["appCidr", `${net(192)}/27`], ["adminCidr", `${net(224)}/28`], ["labId", `ey-${stack}`]]) {
            expect(lab.pulumi("pulumi", ["config", "set", key, value]).status).toBe(0);
        }
        for (const key of ["redisPassword", "sentinelPassword"]) {
            expect(lab.pulumi("pulumi", ["config", "set", "--secret", key, `yaml-${key}-${process.pid}-0123456789`]).status).toBe(0);
        }
        const up = await lab.pulumiAsync("up", [], 900000);
        expect(up.status === 0 ? "" : up.out.split("\n").slice(-40).join("\n")).toBe("");
        const outputs = lab.outputs() as { health: Array<{ ok: boolean; agreedMaster: string }>; sentinelEndpoints: string[]; masterName: string };
        expect(outputs.masterName).toBe("cache");
        expect(outputs.sentinelEndpoints).toHaveLength(3);
        expect(outputs.health).toHaveLength(3);
        expect(outputs.health.every((h) => h.ok && h.agreedMaster === outputs.health[0].agreedMaster)).toBe(true);
        const destroy = await lab.pulumiAsync("destroy", [], 600000);
        expect(destroy.status === 0 ? "" : destroy.out.split("\n").slice(-40).join("\n")).toBe("");
        expect(lab.leftovers()).toEqual({ namespaces: [], link: false });
    }, 1800000);
});
