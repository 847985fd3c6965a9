/** Bad stack config stops the real program before it registers a single resource. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackConfig, runProgram } from "../../scripts/lib/mockCloud";

const root = path.resolve(__dirname, "../..");
const cloudInit = spawnSync("cloud-init", ["--version"]).status === 0;
const promtool = spawnSync("promtool", ["--version"]).status === 0;
if (!cloudInit) console.warn("cloud-init is not installed: plan output is NOT schema-checked here. Run `npm run setup`.");

async function runWith(changes: Record<string, string | undefined>) {
    const stackConfig = readStackConfig("ovh");
    for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) delete stackConfig.config[`redis-ha:${key}`];
        else stackConfig.config[`redis-ha:${key}`] = value;
    }
    let result: ReturnType<typeof runProgram> | undefined;
    jest.isolateModules(() => {
        result = runProgram(stackConfig, () => require("../../index"));
    });
    return result!;
}

test.each([
    [{ sentinelCount: "4" }, /redis-ha:sentinelCount = "4": must be odd/],
    [{ appCidrs: '["0.0.0.0/0"]' }, /redis-ha:appCidrs = "\[\\"0.0.0.0\/0\\"\]": admits 3,702,258,688 public IPv4 addresses/],
    [{ redisPassword: "short\nrequirepass x" }, /redis-ha:redisPassword = <secret, 19 characters>: is 19 characters long|redis-ha:redisPassword = <secret, 19 characters>: holds a line break/],
    [{ sentinals: "3" }, /redis-ha:sentinals = "3": is not a redis-ha setting. Fix: did you mean redis-ha:sentinelCount\?/],
    [{ zones: '["eu-west-par-a","eu-west-par-b"]' }, /redis-ha:zones = .*would hold the master and 2 of 3 Sentinels/],
])("%j fails with its named error and creates nothing", async (changes, message) => {
    const run = await runWith(changes);
    expect(run.error).toBeDefined();
    expect(String((run.error as Error).message)).toMatch(message);
    expect(run.resources).toEqual([]);
});

describe("npm run plan", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-plan-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const plan = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(root, "node_modules/ts-node/dist/bin.js"), "--transpile-only", path.join(root, "scripts/plan.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 60000 });

    test("exits non-zero with the validation message on a bad stack config", () => {
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), fs.readFileSync(path.join(root, "Pulumi.ovh.yaml"), "utf8").replace("redis-ha:maxmemory: 5gb", "redis-ha:maxmemory: 5 GB"));
        const result = plan("--stack", "bad", "--dir", dir);
        expect(result.status).toBe(2);
        expect(result.stderr).toMatch(/redis-ha:maxmemory = "5 GB": is not a size/);
        expect(result.stdout).not.toMatch(/resources/);
    });

    // Every stack file in the repository, so a new one (or a new platform) cannot ship a plan that crashes.
    // Committed ones only (git knows them): the engine tests write a stack file of their own beside them while they run.
    const tracked = spawnSync("git", ["ls-files", "--", "Pulumi.*.yaml"], { cwd: root, encoding: "utf8" });
    const stackFiles = tracked.status === 0 && tracked.stdout.trim() !== "" ? tracked.stdout.trim().split("\n") : fs.readdirSync(root);
    const stacks = stackFiles.map((f) => /^Pulumi\.([\w-]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
    test("covers every committed stack file", () => expect(stacks).toEqual(expect.arrayContaining(["do", "lab", "ovh"])));

    test.each(stacks)("--stack %s --json lists the resources, writes files cloud-init accepts, and claims no health", (stack) => {
        const out = path.join(dir, `out-${stack}`);
        const result = plan("--stack", stack, "--json", "--out", out);
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        const report = JSON.parse(result.stdout);
        const hosts = report.resources.filter((r: { type: string }) => /Instance|Droplet/.test(r.type));
        if (stack !== "lab") expect(new Set(hosts.map((h: { zone: string }) => h.zone)).size).toBe(3);
        const hostDirs = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, "user-data")));
        expect(hostDirs.length).toBe(report.outputs.nodes.length);
        for (const host of hostDirs) {
            for (const file of ["user-data", "redis.conf", "sentinel.conf"]) expect(fs.existsSync(path.join(out, host, file))).toBe(true);
            if (cloudInit) {
                const schema = spawnSync("cloud-init", ["schema", "--config-file", path.join(out, host, "user-data")], { encoding: "utf8" });
                expect(schema.status).toBe(0);
            }
        }
        expect(JSON.stringify(report.outputs)).not.toContain("PLAN-ONLY");
        // Nothing was deployed, so nothing was checked: the plan must not say the quorum is healthy.
        expect(report.outputs.health.length).toBeGreaterThan(0);
        for (const h of report.outputs.health) expect(h).toMatchObject({ ok: false, failures: [expect.stringMatching(/has not run/)] });
        expect(Object.keys(report.outputs.clients)).toEqual(expect.arrayContaining(["wordpress", "wordpressObjectCache"]));
        // The monitoring files, beside the hosts' ones, as Prometheus takes them.
        const files = { "prometheus-scrape.yml": "prometheusScrapeConfig", "alert-rules.yml": "alertRules", "alertmanager-route.yml": "alertmanagerRoute", "grafana-dashboard.json": "grafanaDashboard" };
        for (const [file, output] of Object.entries(files)) expect(fs.readFileSync(path.join(out, "monitoring", file), "utf8")).toBe(report.outputs.monitoring[output]);
        if (promtool) {
            const rules = spawnSync("promtool", ["check", "rules", path.join(out, "monitoring", "alert-rules.yml")], { encoding: "utf8" });
            expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
        }
    });
});
