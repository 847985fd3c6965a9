/**
 * The real Pulumi engine, offline, on a lab stack of its own: preview, up, a no-op up, changed
 * settings rolled out with clients writing, a refused change, a rollout halted by a stopped Sentinel
 * and its rerun, an up whose check fails, the operator commands, and destroy. The engine, the Node
 * language host, the program and the command provider run for real: the rollout and the checks are
 * the same remote.Command resources the ovh and do stacks run, over real SSH into the lab's hosts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineLabStack, Reach, appRedisCli, sentinelAdminCli } from "../../lab/engineStack";
import { EXPORTER_REDIS_USER, OPERATOR_USER, SENTINEL_ADMIN_USER, exporterPassword, sentinelClientPassword } from "../../components/core/aclUsers";
import { readHostState, startService, stopService } from "../../components/platforms/lab/machine";
import { labUnavailableReason } from "../../lab/runtime";
import { startWriters } from "../../lab/writers";
import { waitFor } from "../../lab/drill";

const root = path.resolve(__dirname, "../..");
// Builds (or finds) the CLI, the language host and the command provider; seconds when up to date.
const toolchain = labUnavailableReason() ? undefined : spawnSync("bash", [path.join(root, "scripts/build-pulumi.sh")], { encoding: "utf8", timeout: 1800000 });
const unavailable = labUnavailableReason() ?? (toolchain?.status === 0 ? undefined : `the Pulumi toolchain is not available: ${(toolchain?.stderr || toolchain?.stdout || "").trim().split("\n").slice(-3).join(" / ")} (npm run setup builds it)`);
if (unavailable) console.warn(`\n!!! SKIPPED: the engine tests did NOT run: ${unavailable} !!!\n`);
const maybe = unavailable ? describe.skip : describe;

// A stack of its own, on a network of its own, so a lab you started by hand is never touched.
const lab = new EngineLabStack(`ci${process.pid.toString(36)}`.slice(0, 9));
const { stack, labDir, secretsFile } = lab;
const net = (last: number) => lab.address(last);
const pulumi = (action: string, args: string[] = []) => lab.pulumi(action, args);
const pulumiAsync = (action: string, args: string[] = []) => lab.pulumiAsync(action, args);
const outputs = () => lab.outputs() as { health: unknown; sentinelEndpoints: unknown; clientEnvironment: unknown; labPrometheusUrl: string; monitoring: { alertRules: string } };
const leftovers = () => lab.leftovers();
const hostName = (i: number) => lab.hostName(i);
const labHost = (i: number) => lab.labHost(i);
const redisCli = appRedisCli;
const configGet = async (target: Reach, i: number, key: string) => (await redisCli(target, i, ["CONFIG", "GET", key])).split("\n")[1];
async function sentinelField(target: Reach, i: number, key: string): Promise<string> {
    const lines = (await sentinelAdminCli(target, i, ["SENTINEL", "MASTER", "redis-ha"])).split("\n");
    return lines[lines.indexOf(key) + 1];
}
const processes = (i: number) => readHostState({ dir: labDir }, hostName(i))?.processes;
const nftRuleset = (i: number) => spawnSync("ip", ["netns", "exec", hostName(i), "nft", "list", "ruleset"], { encoding: "utf8" }).stdout;
const macOf = (i: number) => /link\/ether (\S+)/.exec(spawnSync("ip", ["-n", hostName(i), "-o", "link", "show", "eth0"], { encoding: "utf8" }).stdout)?.[1];
const healthy = (master: string, replicasOnline = 2) => ({ ok: true, agreedMaster: master, replicasOnline, failures: [] });
async function sentinelReplicas(target: Reach, i: number): Promise<string[]> {
    const lines = (await sentinelAdminCli(target, i, ["SENTINEL", "REPLICAS", "redis-ha"])).split("\n");
    return lines.flatMap((l, n) => (l === "name" ? [lines[n + 1]] : [])).sort();
}
async function currentMaster(target: Reach): Promise<string> {
    return (await redisCli(target, 0, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "redis-ha"], 26379, sentinelClientPassword(target.secrets.sentinelPassword))).trim().split("\n").join(":");
}
/** The lab stack's own Prometheus, asked from this machine over the lab's operator link. */
function prometheusGet(pathAndQuery: string): { status: string; data: unknown } {
    const answer = spawnSync("curl", ["-sS", "--max-time", "5", "-g", `${outputs().labPrometheusUrl}${pathAndQuery}`], { encoding: "utf8", timeout: 10000 });
    return answer.status === 0 ? JSON.parse(answer.stdout) : { status: `curl: ${answer.stderr}`, data: undefined };
}
/** Waits (bounded) until the lab's Prometheus scrapes exactly `exporters` ("address:port"), each logged in to what it watches. */
async function prometheusScrapes(exporters: string[]): Promise<void> {
    let seen: unknown;
    const scraped = () => {
        const answer = prometheusGet(`/api/v1/query?query=${encodeURIComponent(`redis_up{deployment="redis-ha-${stack}"}`)}`);
        const series = (answer.data as { result?: Array<{ metric: { instance: string }; value: [number, string] }> } | undefined)?.result ?? [];
        seen = series.map((r) => `${r.metric.instance}=${r.value[1]}`).sort();
        return JSON.stringify(seen) === JSON.stringify(exporters.map((e) => `${e}=1`).sort());
    };
    // Two scrape intervals of the stack's (15 s), and some.
    await waitFor("the lab's Prometheus to scrape every exporter", async () => scraped(), 60000, () => `redis_up now: ${JSON.stringify(seen)}`);
}
let writerSessions = 0;
type Passwords = Partial<Reach["secrets"]>;
/**
 * Runs `up` (or `up ARGS`) with the three clients writing throughout, with `passwords` instead of
 * the generated ones; asserts no acknowledged write lost and, unless a planned switchover is part
 * of it, no client error.
 */
async function upWithWriters(passwords: Passwords = {}, options: { switchover?: boolean; args?: string[] } = {}): Promise<string> {
    const writerTarget = lab.writerTarget();
    writerTarget.secrets = { ...writerTarget.secrets, ...passwords };
    const writers = await startWriters(writerTarget, ["ioredis", "phpredis", "predis"], { maxSeconds: 400, keyPrefix: `writes${++writerSessions}` });
    let up: { status: number | null; out: string };
    try {
        up = await pulumiAsync("up", options.args ?? []);
    } finally {
        await Promise.all(writers.map((w) => w.stop()));
    }
    if (up.status !== 0) throw new Error(up.out);
    const target = lab.reach();
    target.secrets = { ...target.secrets, ...passwords };
    const master = await currentMaster(target);
    const onMaster = target.network.hosts.findIndex((h) => `${h.address}:6379` === master);
    for (const w of writers) {
        // A planned switchover pauses writes; a read may still meet the old master as it steps down.
        if (!options.switchover) expect({ client: w.client, errors: w.errors }).toEqual({ client: w.client, errors: [] });
        const stored = new Set((await redisCli(target, onMaster, ["LRANGE", w.key, "0", "-1"])).split("\n").filter(Boolean).map(Number));
        expect({ client: w.client, lost: w.acked.filter((n) => !stored.has(n)).length }).toEqual({ client: w.client, lost: 0 });
    }
    return up.out;
}

maybe("pulumi on the lab stack", () => {
    beforeAll(() => {
        lab.writeStackFile(["  redis-ha:maxmemory: 64mb", '  redis-ha:checkTimeoutSeconds: "30"']);
    });
    afterAll(() => {
        // Whatever happened above: nothing of this stack may survive the test.
        lab.cleanUp();
    }, 300000);

    test("preview plans the lab network, three hosts with their secret deliveries, handoffs and boot guards, the settings rollout, the default user's step and three checks (remote.Command), and creates nothing", () => {
        const { status, out } = pulumi("preview");
        expect(out).toMatch(/\+ 27 to create/);
        expect(out.match(/\+ +command:remote:Command +redis-ha-\S+-secrets/g)).toHaveLength(3);
        expect(out).toMatch(/\+ +pulumi-nodejs:dynamic:Resource +redis-ha-\S+-prometheus/);
        expect(out.match(/\+ +command:remote:Command +redis-ha-\S+-handoff/g)).toHaveLength(3);
        expect(out.match(/\+ +command:remote:Command +redis-ha-\S+-check/g)).toHaveLength(3);
        expect(out.match(/\+ +command:remote:Command +redis-ha-\S+-credentials/g)).toHaveLength(3);
        expect(out).toMatch(/\+ +command:remote:Command +redis-ha-\S+-settings/);
        expect(out).toMatch(/\+ +command:remote:Command +redis-ha-\S+-default-user/);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
    }, 300000);

    test("up creates the hosts, and the remote.Command checks over SSH prove the quorum", () => {
        const { status, out } = pulumi("up");
        if (status !== 0) throw new Error(out);
        expect(out).toMatch(/\+ 27 created/);
        // Each host booted a user-data without a password, and got them over SSH before its handoff.
        const generatedPasswords = JSON.parse(fs.readFileSync(secretsFile, "utf8"));
        for (const i of [0, 1, 2]) {
            const userData = fs.readFileSync(path.join(labDir, "hosts", hostName(i), "user-data"), "utf8");
            expect(userData).toContain("@REDIS_HA_SECRET_REDIS@");
            expect([generatedPasswords.redisPassword, generatedPasswords.sentinelPassword].filter((p) => userData.includes(p))).toEqual([]);
            expect(out.indexOf(`-redis-${i}-secrets created`)).toBeGreaterThan(-1);
            expect(out.indexOf(`-redis-${i}-secrets created`)).toBeLessThan(out.indexOf(`-redis-${i}-handoff created`));
        }
        expect(out.match(/DELIVERED redis-ha-\S+-redis-\d/g)).toHaveLength(3);
        // Made with default off, there is nothing for the default user's step to change.
        expect(out).not.toMatch(/DEFAULTOFF/);
        // Each data node's boot guard step ran, and before the settings rollout.
        for (const i of [0, 1, 2]) expect(out.indexOf(`-redis-${i}-boot-guard created`)).toBeGreaterThan(-1);
        expect(Math.max(...[0, 1, 2].map((i) => out.indexOf(`-redis-${i}-boot-guard created`)))).toBeLessThan(out.search(/command:remote:Command redis-ha-\S+-settings created/));
        expect(out).toMatch(/command:remote:Command redis-ha-\S+-redis-0-check created/);
        const shown = outputs();
        expect(shown.health).toEqual([0, 1, 2].map(() => healthy(`${net(11)}:6379`)));
        expect(shown.sentinelEndpoints).toEqual([11, 12, 13].map((i) => `${net(i)}:26379`));
        expect(shown.clientEnvironment).toBe("[secret]");
        expect(leftovers().namespaces.sort()).toEqual(["admin", "app", "net", "outsider", "redis-0", "redis-1", "redis-2"].map((n) => `redis-ha-${stack}-${n}`).sort());
        // The key the checks log in with, and the passwords in the user-data, are in the state only as secrets.
        const exported = pulumi("pulumi", ["stack", "export"]).out;
        expect(exported).not.toContain("PRIVATE KEY");
        const generated = JSON.parse(fs.readFileSync(secretsFile, "utf8"));
        expect(exported).not.toContain(generated.redisPassword);
        expect(exported).not.toContain(generated.sentinelPassword);
    }, 600000);

    test("the lab stack watches itself: its Prometheus scrapes every exporter through the firewall, logged in, with the stack's own alert rules loaded and none firing", async () => {
        await prometheusScrapes([11, 12, 13].flatMap((i) => [`${net(i)}:9121`, `${net(i)}:9122`]));
        const rules = prometheusGet("/api/v1/rules?type=alert").data as { groups: Array<{ rules: Array<{ name: string; health: string }> }> };
        const loaded = rules.groups.flatMap((g) => g.rules);
        const rendered = [...outputs().monitoring.alertRules.matchAll(/^ +- alert: (\S+)$/gm)].map((m) => m[1]);
        expect(rendered.length).toBeGreaterThanOrEqual(18);
        expect(loaded.map((r) => r.name).sort()).toEqual(rendered.sort());
        expect(loaded.filter((r) => r.health === "err")).toEqual([]);
        const alerts = prometheusGet("/api/v1/alerts").data as { alerts: Array<{ labels: Record<string, string>; state: string }> };
        expect(alerts.alerts.filter((a) => a.state === "firing")).toEqual([]);
    }, 120000);

    test("a second up changes nothing and replaces no host", () => {
        const { status, out } = pulumi("up");
        expect(status).toBe(0);
        expect(out).not.toMatch(/replaced|created|deleted|updated/);
    }, 600000);

    test("changed settings reach the running nodes one at a time, replicas first, with clients writing throughout; preview shows them and changes nothing", async () => {
        const target = lab.writerTarget();
        const before = [0, 1, 2].map(processes);
        const writers = await startWriters(target, ["ioredis", "phpredis", "predis"], { maxSeconds: 400 });
        let up: { status: number | null; out: string };
        try {
            // maxmemory and down-after-milliseconds go through the running processes; a new
            // application CIDR changes every host's firewall, which the hosts take in place.
            for (const args of [["redis-ha:maxmemory", "96mb"], ["redis-ha:downAfterMilliseconds", "2000"], ["--path", "redis-ha:appCidrs[1]", "10.99.0.0/24"]]) {
                expect((await pulumiAsync("pulumi", ["config", "set", ...args])).status).toBe(0);
            }
            const preview = await pulumiAsync("preview", ["--diff"]);
            expect(preview.status).toBe(0);
            expect(preview.out).toMatch(/~ 3 to update/);
            expect(preview.out).toMatch(/\+-4 to replace/);
            expect(preview.out).not.toMatch(/to (create|delete)/);
            expect(preview.out).toMatch(/redis maxmemory 96mb/);
            expect(preview.out).toMatch(/sentinel down-after-milliseconds 2000/);
            expect(preview.out).toMatch(/\+ +tcp dport 6379 ip saddr 10\.99\.0\.0\/24 accept/);
            expect(await configGet(target, 0, "maxmemory")).toBe(String(64 * 1024 * 1024));
            expect(nftRuleset(0)).not.toContain("10.99.0.0/24");

            up = await pulumiAsync("up");
        } finally {
            await Promise.all(writers.map((w) => w.stop()));
        }
        if (up.status !== 0) throw new Error(up.out);
        expect(up.out).toMatch(/~ 3 updated/);
        expect(up.out).toMatch(/\+-4 replaced/);
        expect(up.out).not.toMatch(/\+ \d+ created|- \d+ deleted/);
        // One node at a time, the replicas first and the master (.11) last, then each Sentinel.
        const sets = up.out.split("\n").map((l) => /SET (\S+) maxmemory 67108864 -> 100663296/.exec(l)?.[1]).filter((x): x is string => !!x);
        expect([...new Set(sets)]).toEqual([12, 13, 11].map((i) => `${net(i)}:6379`));
        for (const i of [0, 1, 2]) {
            expect(await configGet(target, i, "maxmemory")).toBe(String(96 * 1024 * 1024));
            expect(await sentinelField(target, i, "down-after-milliseconds")).toBe("2000");
            expect(nftRuleset(i)).toMatch(/tcp dport 6379 ip saddr 10\.99\.0\.0\/24 accept/);
        }
        // The same processes: no host was torn down or restarted.
        expect([0, 1, 2].map(processes)).toEqual(before);
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(`${net(11)}:6379`)));
        // Not one client error, and every acknowledged write is on the master.
        for (const w of writers) {
            expect({ client: w.client, errors: w.errors }).toEqual({ client: w.client, errors: [] });
            const stored = new Set((await redisCli(target, 0, ["LRANGE", w.key, "0", "-1"])).split("\n").filter(Boolean).map(Number));
            expect({ client: w.client, lost: w.acked.filter((n) => !stored.has(n)).length }).toEqual({ client: w.client, lost: 0 });
        }
    }, 600000);

    test("a setting a running deployment cannot take is refused by preview and by up, with the reason, and nothing changes", async () => {
        const before = [0, 1, 2].map(processes);
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:redisPort", "6380"])).status).toBe(0);
        try {
            for (const action of ["preview", "up"]) {
                const { status, out } = await pulumiAsync(action);
                expect(status).not.toBe(0);
                expect(out).toContain('redis-ha:redisPort (args.redis.port) cannot change on a running deployment ("6379" -> "6380"): every client, replica and Sentinel reaches the nodes on this port');
                expect(out).not.toMatch(/(updated|replaced|created|deleted) \(/);
            }
        } finally {
            expect((await pulumiAsync("pulumi", ["config", "rm", "redis-ha:redisPort"])).status).toBe(0);
        }
        expect([0, 1, 2].map(processes)).toEqual(before);
    }, 600000);

    test("a rollout that meets a stopped Sentinel halts before changing any, naming it; a rerun once it is back completes", async () => {
        const { spec, host } = labHost(2);
        const target = lab.reach();
        await stopService(spec, host.namespace, "sentinel", "SIGTERM");
        try {
            expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:parallelSyncs", "2"])).status).toBe(0);
            const { status, out } = await pulumiAsync("up");
            expect(status).not.toBe(0);
            expect(out).toContain(`redis-ha settings rollout stopped on ${hostName(0)}`);
            // Found before any Sentinel is changed (the Sentinels' users go through all of them first);
            // nothing ran the checks on a half-done rollout.
            expect(out).toMatch(new RegExp(`FAIL sentinel ${net(13).replace(/\./g, "\\.")}:26379 does not answer \\(PING: .*Connection refused\\); nothing was changed on the Sentinels: start it and rerun`));
            expect(await sentinelField(target, 0, "parallel-syncs")).toBe("1");
            expect(await sentinelField(target, 1, "parallel-syncs")).toBe("1");
            expect(out).not.toMatch(/-check (created|replaced)/);
        } finally {
            await startService(spec, host, "sentinel");
        }
        const rerun = await pulumiAsync("up");
        if (rerun.status !== 0) throw new Error(rerun.out);
        for (const i of [11, 12, 13]) expect(rerun.out).toMatch(new RegExp(`SET sentinel ${net(i).replace(/\./g, "\\.")}:26379 parallel-syncs 1 -> 2`));
        expect(await sentinelField(target, 2, "parallel-syncs")).toBe("2");
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(`${net(11)}:6379`)));
    }, 600000);

    test("an up whose check fails fails with the check's own words, naming the node and the fact", async () => {
        const { spec, host } = labHost(2);
        await stopService(spec, host.namespace, "sentinel", "SIGTERM");
        try {
            // Only the check runs again: nothing else changed, so the rollout is not what fails.
            const check = lab.exportState().deployment.resources.find((r) => r.urn.endsWith(`::${hostName(0)}-check`))!.urn;
            const { status, out } = await pulumiAsync("up", ["--replace", check]);
            expect(status).not.toBe(0);
            expect(out).toMatch(new RegExp(`redis-ha check failed on ${hostName(0)} after \\d+ attempts`));
            expect(out).toContain(`sentinel ${net(13)}:26379 cannot name master redis-ha: Could not connect to Redis at ${net(13)}:26379: Connection refused`);
            expect(out).not.toContain("settings rollout stopped");
        } finally {
            await startService(spec, host, "sentinel");
        }
    }, 600000);

    test("operator commands: drift names what a node runs differently; switchover moves the master; the next rollout puts the new master last and repairs the drift", async () => {
        const target = lab.reach();
        const ops = (command: string) => lab.ops(command);
        expect((await redisCli(target, 2, ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])).trim()).toBe("OK");
        const drift = await ops("drift");
        expect(drift.stdout.trim().split("\n")).toEqual([`MASTER ${net(11)}:6379`, `DRIFT ${net(13)}:6379 maxmemory-policy running=allkeys-lru stack=noeviction`, "RESULT drift=1"]);
        expect(drift.status).toBe(3);

        const switchover = await ops("switchover");
        expect(switchover.status).toBe(0);
        const promoted = /^SWITCHED \S+ -> (\S+)$/m.exec(switchover.stdout)?.[1];
        expect([`${net(12)}:6379`, `${net(13)}:6379`]).toContain(promoted);
        expect(switchover.stdout).toContain("CAUGHT-UP");

        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:maxmemory", "80mb"])).status).toBe(0);
        const up = await pulumiAsync("up");
        if (up.status !== 0) throw new Error(up.out);
        const sets = up.out.split("\n").map((l) => /SET (\S+) maxmemory \d+ -> 83886080/.exec(l)?.[1]).filter((x): x is string => !!x);
        expect([...new Set(sets)].pop()).toBe(promoted);
        expect(up.out).toMatch(new RegExp(`SET ${net(13).replace(/\./g, "\\.")}:6379 maxmemory-policy allkeys-lru -> noeviction`));
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(promoted!)));
    }, 600000);

    test("replicaCount 2 -> 5 with sentinelCount 3 -> 5: the new nodes start as replicas of the master the Sentinels name now (not the plan's), two with a Sentinel that joins the quorum; every Sentinel knows every node and every other Sentinel", async () => {
        const target = lab.reach();
        const master = await currentMaster(target);
        // The operator test above moved the master off the planned one, so following the plan would be wrong.
        expect(master).not.toBe(`${net(11)}:6379`);
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:replicaCount", "5"])).status).toBe(0);
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:sentinelCount", "5"])).status).toBe(0);
        const preview = await pulumiAsync("preview");
        expect(preview.status).toBe(0);
        expect(preview.out).toMatch(/\+ \d+ to create/);
        expect(preview.out).not.toMatch(/to delete/);
        expect(preview.out).not.toMatch(/Resource \S+-redis-\d+ replace/);
        expect(leftovers().namespaces).not.toContain(hostName(3));

        const out = await upWithWriters();
        expect(out).not.toMatch(/- \d+ deleted/);
        const after = lab.reach();
        for (const i of [3, 4, 5]) expect((await redisCli(after, i, ["ROLE"])).split("\n").slice(0, 3)).toEqual(["slave", master.split(":")[0], "6379"]);
        const others = [11, 12, 13, 14, 15, 16].map((i) => `${net(i)}:6379`).filter((a) => a !== master).sort();
        for (const i of [0, 1, 2, 3, 4]) {
            expect(await sentinelReplicas(after, i)).toEqual(others);
            expect(await sentinelField(after, i, "num-other-sentinels")).toBe("4");
            // The default quorum follows the count: a majority of five.
            expect(await sentinelField(after, i, "quorum")).toBe("3");
        }
        expect(processes(5)?.sentinel).toBeUndefined();
        // The data node without a Sentinel is judged by the host half of the check alone (docs/security.md).
        expect(out).toMatch(/command:remote:Command redis-ha-\S+-redis-5-hardening created/);
        expect(processes(4)?.sentinel).toEqual(expect.any(Number));
        expect(outputs().health).toEqual([0, 1, 2, 3, 4].map(() => healthy(master, 5)));
        // The lab's Prometheus was reloaded with the new nodes' exporters, not restarted blind.
        await prometheusScrapes([...[11, 12, 13, 14, 15, 16].map((i) => `${net(i)}:9121`), ...[11, 12, 13, 14, 15].map((i) => `${net(i)}:9122`)]);
    }, 600000);

    test("replicaCount 5 -> 2 with sentinelCount 5 -> 3: the removed replicas are detached, their Sentinels stop monitoring, every other Sentinel forgets them one at a time, then their hosts are deleted", async () => {
        const master = await currentMaster(lab.reach());
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:replicaCount", "2"])).status).toBe(0);
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:sentinelCount", "3"])).status).toBe(0);
        const out = await upWithWriters();
        expect(out).toMatch(/- \d+ deleted/);
        for (const i of [14, 15, 16]) expect(out).toContain(`DETACHED ${net(i)}:6379`);
        for (const i of [14, 15]) expect(out).toContain(`UNMONITORED sentinel ${net(i)}:26379 no longer monitors redis-ha`);
        expect(out.match(/RESET sentinel \S+ forgot/g)).toHaveLength(3);
        for (const i of [3, 4, 5]) expect(leftovers().namespaces).not.toContain(hostName(i));
        const target = lab.reach();
        const others = [11, 12, 13].map((i) => `${net(i)}:6379`).filter((a) => a !== master).sort();
        for (const i of [0, 1, 2]) {
            expect(await sentinelReplicas(target, i)).toEqual(others);
            expect(await sentinelField(target, i, "num-other-sentinels")).toBe("2");
            expect(await sentinelField(target, i, "quorum")).toBe("2");
        }
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(master)));
        await prometheusScrapes([11, 12, 13].flatMap((i) => [`${net(i)}:9121`, `${net(i)}:9122`]));
    }, 600000);

    test("a Redis and a Sentinel password rotation together, in two steps: both accepted while the apps move, then the old ones retired; no client error in either", async () => {
        const old = lab.reach().secrets;
        const rotated = { redisPassword: `rotated-${old.redisPassword}`.slice(0, 64), sentinelPassword: `rotated-${old.sentinelPassword}`.slice(0, 64) };
        const answer = async (i: number, login: { port: number; password: string; user?: string }) => (await appRedisCli(lab.reach(), i, ["PING"], login.port, login.password, login.user)).trim();
        // Each login a stack's passwords give: Redis's operator user (default is off: neither opens it);
        // on a Sentinel, admin with the stack's password (the operators') and default with the client
        // password derived from it (the apps').
        const loginsOf = (p: { redisPassword: string; sentinelPassword: string }) => [
            { port: 6379, password: p.redisPassword, user: OPERATOR_USER },
            { port: 6379, password: exporterPassword(p.redisPassword), user: EXPORTER_REDIS_USER },
            { port: 26379, password: p.sentinelPassword, user: SENTINEL_ADMIN_USER },
            { port: 26379, password: sentinelClientPassword(p.sentinelPassword) },
        ];
        for (const [key, value] of [["redisPassword", rotated.redisPassword], ["previousRedisPassword", old.redisPassword], ["sentinelPassword", rotated.sentinelPassword], ["previousSentinelPassword", old.sentinelPassword]]) {
            expect((await pulumiAsync("pulumi", ["config", "set", "--secret", `redis-ha:${key}`, value])).status).toBe(0);
        }
        const preview = await pulumiAsync("preview", ["--diff"]);
        expect(preview.status).toBe(0);
        expect(preview.out).toContain("redis previous password still accepted (rotation under way)");
        expect(preview.out).toContain("sentinel previous password still accepted (rotation under way)");
        for (const secret of Object.values(rotated)) expect(preview.out).not.toContain(secret);
        // Step 1, with the apps still on the old passwords.
        const first = await upWithWriters({ redisPassword: old.redisPassword, sentinelPassword: old.sentinelPassword });
        for (const secret of Object.values(rotated)) expect(first).not.toContain(secret);
        // Default is off on every node: the operator user carries the rotation, and default takes neither password.
        expect(first).not.toMatch(/ACCEPTS /);
        expect(first).toMatch(/SAME \d\S+ default user off/);
        expect(first).not.toMatch(/DEFAULT(OFF|ON) /);
        // Each Sentinel's admin takes both stack passwords, its default both client passwords, and every
        // Sentinel logs in to its peers with the new one.
        expect(first.match(/SENTINELADMIN sentinel \S+ admin user set and saved/g)).toHaveLength(3);
        expect(first.match(/SENTINELCLIENT sentinel \S+ default user set and saved/g)).toHaveLength(3);
        expect(first.match(/PEERLOGIN sentinel \S+/g)).toHaveLength(3);
        // The app user accepts the app passwords of both (the writers above are on the old one; below, on the new).
        expect(first.match(/APPUSER \d\S+ app user set and saved/g)).toHaveLength(3);
        // The Sentinels' user takes the new password's too, and every Sentinel is given it.
        expect(first.match(/SENTINELUSER \d\S+ sentinel user set and saved/g)).toHaveLength(3);
        expect(first.match(/SENTINELLOGIN sentinel \S+ logs in to the nodes as sentinel/g)).toHaveLength(3);
        // Replication too: the replication user takes the new password's, and each node, replicas
        // relinked one at a time, logs in to its master with it.
        expect(first.match(/REPLUSER \d\S+ replica user set and saved/g)).toHaveLength(3);
        expect(first.match(/REPLLOGIN \d\S+ logs in to its master as replica/g)).toHaveLength(3);
        // The operators' user takes both.
        expect(first.match(/OPERUSER \d\S+ operator user set and saved/g)).toHaveLength(3);
        expect(first.match(/EXPORTERUSER \d\S+ exporter user set and saved/g)).toHaveLength(3);
        for (const i of [0, 1, 2]) {
            for (const login of [...loginsOf(old), ...loginsOf(rotated)]) expect({ login: login.user ?? login.port, answer: await answer(i, login) }).toEqual({ login: login.user ?? login.port, answer: "PONG" });
            for (const password of [old.redisPassword, rotated.redisPassword]) expect(await answer(i, { port: 6379, password })).toMatch(/WRONGPASS|NOAUTH/);
            // A restart's boot guard asks the Sentinels, as the apps do, with the password they will keep.
            expect(fs.readFileSync(path.join(labDir, "hosts", hostName(i), "etc-redis-ha", "sentinel-password"), "utf8").trim()).toBe(sentinelClientPassword(rotated.sentinelPassword));
            // And the checks, handoffs and switchovers log in with the new ones.
            expect(fs.readFileSync(path.join(labDir, "hosts", hostName(i), "etc-redis-ha", "operator.conf"), "utf8")).toContain(`redis-password ${rotated.redisPassword}\nsentinel-password ${rotated.sentinelPassword}\n`);
        }
        // Step 2, once the apps use the new ones.
        for (const key of ["previousRedisPassword", "previousSentinelPassword"]) expect((await pulumiAsync("pulumi", ["config", "rm", `redis-ha:${key}`])).status).toBe(0);
        const second = await upWithWriters(rotated);
        expect(second).not.toMatch(/RETIRED \d/);
        expect(second.match(/RETIRED sentinel \S+ the previous password/g)).toHaveLength(3);
        expect(second.match(/SENTINELCLIENT sentinel \S+ default user set and saved/g)).toHaveLength(3);
        expect(second.match(/APPUSER \d\S+ app user set and saved/g)).toHaveLength(3);
        // The Sentinels' user keeps only the new password's, once every Sentinel was given it again.
        expect(second.match(/SENTINELLOGIN sentinel \S+ logs in to the nodes as sentinel/g)).toHaveLength(3);
        expect(second.match(/SENTINELUSER \d\S+ sentinel user set and saved/g)).toHaveLength(3);
        expect(second.match(/REPLUSER \d\S+ replica user set and saved/g)).toHaveLength(3);
        expect(second).not.toMatch(/REPLLOGIN/);
        expect(second.match(/OPERUSER \d\S+ operator user set and saved/g)).toHaveLength(3);
        expect(second.match(/EXPORTERUSER \d\S+ exporter user set and saved/g)).toHaveLength(3);
        for (const i of [0, 1, 2]) {
            for (const login of loginsOf(old)) expect({ login: login.user ?? login.port, answer: await answer(i, login) }).toEqual({ login: login.user ?? login.port, answer: expect.stringMatching(/WRONGPASS|NOAUTH/) });
            for (const login of loginsOf(rotated)) expect({ login: login.user ?? login.port, answer: await answer(i, login) }).toEqual({ login: login.user ?? login.port, answer: "PONG" });
        }
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(expect.any(String))));
        // The exporters moved with the passwords (the old ones are refused now): each still sees its process.
        const exporterSays = (address: string, port: number) =>
            spawnSync("curl", ["-sS", "--max-time", "5", `http://${address}:${port}/metrics`], { encoding: "utf8", timeout: 10000 }).stdout.match(/^redis_up \d$/m)?.[0];
        const exporters = [11, 12, 13].flatMap((i) => [9121, 9122].map((port) => `${net(i)}:${port}`));
        await waitFor("every exporter to log in with the new passwords", () => exporters.every((e) => exporterSays(e.split(":")[0], Number(e.split(":")[1])) === "redis_up 1"), 30000,
            () => exporters.map((e) => `${e}: ${exporterSays(e.split(":")[0], Number(e.split(":")[1])) ?? "no answer"}`).join(", "));
        const exported = pulumi("pulumi", ["stack", "export"]).out;
        for (const secret of Object.values(rotated)) expect(exported).not.toContain(secret);
    }, 900000);

    test("a new image replaces the hosts one at a time: replicas first, the plan's master last, each after the one before rejoined in sync, the master's role handed over by a planned switchover; nothing acknowledged is lost", async () => {
        // The rotation above left the stack on its own passwords, not the generated ones.
        const configured = async (key: string) => (await pulumiAsync("pulumi", ["config", "get", `redis-ha:${key}`])).out.split("\n")[0].trim();
        const passwords = { redisPassword: await configured("redisPassword"), sentinelPassword: await configured("sentinelPassword") };
        const master = await currentMaster({ ...lab.reach(), secrets: { ...lab.reach().secrets, ...passwords } });
        const before = [0, 1, 2].map((i) => processes(i)?.redis);
        const macs = [0, 1, 2].map(macOf);
        expect((await pulumiAsync("pulumi", ["config", "set", "redis-ha:image", "this-machine-2"])).status).toBe(0);
        const preview = await pulumiAsync("preview");
        expect(preview.status).toBe(0);
        for (const i of [0, 1, 2]) expect(preview.out).toMatch(new RegExp(`${hostName(i)}\\s+replace`));
        expect([0, 1, 2].map((i) => processes(i)?.redis)).toEqual(before);

        const out = await upWithWriters(passwords, { switchover: true });
        const chain = [1, 2, 0];
        expect(out.match(/JOINED \S+/g)).toEqual(chain.map((i) => `JOINED ${hostName(i)}`));
        // The master hands over when its turn comes, to a node already replaced when there is one:
        // once, unless it was the first in the chain (then the node it chose hands over again).
        const position = chain.map((i) => `${net(11 + i)}:6379`).indexOf(master);
        expect(out.match(/HANDOVER \S+ is the master/g)).toHaveLength(position === 0 ? 2 : 1);
        expect(out).toContain(`HANDOVER ${master} is the master`);
        for (const i of [0, 1, 2]) expect(processes(i)?.redis).not.toBe(before[i]);
        // As a cloud port keeps its MAC with its fixed address: the peers' ARP entries stay right.
        expect([0, 1, 2].map(macOf)).toEqual(macs);
        expect(macs.every(Boolean)).toBe(true);
        const target = { ...lab.reach(), secrets: { ...lab.reach().secrets, ...passwords } };
        const now = await currentMaster(target);
        const others = [11, 12, 13].map((i) => `${net(i)}:6379`).filter((a) => a !== now).sort();
        for (const i of [0, 1, 2]) {
            expect(await sentinelReplicas(target, i)).toEqual(others);
            expect(await sentinelField(target, i, "num-other-sentinels")).toBe("2");
        }
        expect(outputs().health).toEqual([0, 1, 2].map(() => healthy(now)));
    }, 900000);

    test("destroy leaves nothing behind", () => {
        const { status, out } = pulumi("destroy");
        expect(out).toMatch(/- 27 deleted/);
        // Destroy never hands over between doomed nodes: the handoffs are deleted with the deployment.
        expect(out).not.toMatch(/HANDOVER|LEAVING/);
        expect(status).toBe(0);
        expect(leftovers()).toEqual({ namespaces: [], link: false });
        expect(fs.existsSync(labDir)).toBe(false);
    }, 300000);
});
