/**
 * The post-deploy check, run for real: bash, redis-cli, redis-server and redis-sentinel on
 * loopback, started from the project's rendered configs. A healthy quorum passes; each fault
 * fails the check with a line that names the node and the fact.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CheckScriptInput, renderCheckScript, renderHostHardeningScript } from "../../cloud-init/checkScript";
import { PATCHED_REDIS_BUILDS } from "../../components/core/hardening";
import { parseCheckOutput, parseReplicationInfo, parseSentinelReplicas, replicasRememberedAsMasters } from "../../components/core/checkOutput";
import { LocalCluster, redisAvailable } from "../support/localRedis";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";
import { REPLICATION_USER, SENTINEL_ADMIN_USER, SENTINEL_USER, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../../components/core/aclUsers";
import { waitFor } from "../../lab/drill";

if (!redisAvailable) console.warn("SKIPPED: redis-server/redis-sentinel are not installed; the check script is NOT exercised. Run `npm run setup`.");
const maybe = redisAvailable ? describe : describe.skip;

function runCheck(cluster: LocalCluster, timeoutSeconds: number, sentinelConfPath = cluster.nodes[0].sentinelConf, extra: Partial<CheckScriptInput> = {}, env: NodeJS.ProcessEnv = process.env) {
    const script = renderCheckScript({
        operatorCredentialsPath: cluster.operatorFile,
        ...extra,
        // The default user is judged against what the cluster was rendered with, unless a test says otherwise.
        hardening: extra.hardening === false ? false : { legacyDefaultUser: cluster.legacyDefaultUser, ...extra.hardening },
        hostName: "local-0",
        masterName: cluster.masterName,
        sentinels: cluster.sentinelEndpoints(),
        expectedReplicas: 2,
        maxLagSeconds: 10,
        timeoutSeconds,
        sentinelConfPath,
        waitForCloudInit: false,
        intervalSeconds: 1,
    });
    const result = spawnSync("bash", ["-s"], { input: script, encoding: "utf8", timeout: (timeoutSeconds + 90) * 1000, env });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, report: parseCheckOutput(result.stdout) };
}

maybe("check script against real Redis and Sentinel", () => {
    let cluster: LocalCluster;
    beforeAll(async () => {
        cluster = await LocalCluster.start();
    }, 30000);
    afterAll(async () => {
        await cluster?.destroy();
    });

    test("a healthy quorum passes: one agreed master, quorum OK everywhere, both replicas online", () => {
        const { status, report } = runCheck(cluster, 40);
        expect(report.failures).toEqual([]);
        expect(status).toBe(0);
        expect(report.ok).toBe(true);
        const master = cluster.nodes[0];
        expect(report.agreedMaster).toBe(`${master.address}:${master.redisPort}`);
        expect(report.sentinels).toHaveLength(3);
        expect(report.knownReplicas.map((k) => k.replicas)).toEqual([2, 2, 2]);
        expect(report.quorum.every((q) => q.ok && /OK 3 usable Sentinels/.test(q.detail))).toBe(true);
        expect(report.replicas.map((r) => r.replica).sort()).toEqual(cluster.nodes.slice(1).map((n) => `${n.address}:${n.redisPort}`).sort());
    }, 60000);

    test("the INFO parser reads the live master", () => {
        const master = cluster.nodes[0];
        const out = spawnSync("redis-cli", ["-h", master.address, "-p", String(master.redisPort), "INFO", "replication"], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } });
        const info = parseReplicationInfo(out.stdout);
        expect(info.role).toBe("master");
        expect(info.replicas.map((r) => r.state)).toEqual(["online", "online"]);
    });

    test("a wrong Redis password in the operator credentials is reported against the master", () => {
        const wrong = `${cluster.root}/wrong-operator.conf`;
        fs.writeFileSync(wrong, fs.readFileSync(cluster.operatorFile, "utf8").replace(REDIS_PASSWORD, "Wrong-password-0123456789"), { mode: 0o600 });
        const { status, report, stderr } = runCheck(cluster, 2, undefined, { operatorCredentialsPath: wrong });
        expect(status).toBe(1);
        expect(report.failures.join("\n")).toMatch(/master 127\.0\.\d+\.10:\d+ \(named by the Sentinels\) is not serving as master: .*(WRONGPASS|invalid username-password)/);
        expect(stderr).toContain("redis-ha check failed on local-0");
    }, 30000);

    test("the operator credentials are what the check logs in with; a host made before them logs in with its sentinel.conf's", () => {
        // The Sentinels log in as their own user: their sentinel.conf's auth-pass is not the operator's password.
        const withFile = runCheck(cluster, 40);
        expect(withFile.report.failures).toEqual([]);
        expect(withFile.status).toBe(0);

        const noFile = { operatorCredentialsPath: `${cluster.root}/made-before-operator-credentials` };
        const fromSentinelUsersConf = runCheck(cluster, 2, undefined, noFile);
        expect(fromSentinelUsersConf.status).toBe(1);
        expect(fromSentinelUsersConf.report.failures.join("\n")).toMatch(/is not serving as master: .*(WRONGPASS|invalid username-password)/);
        // A host made before them: its Sentinel still logged in as default, with the stack's password.
        const madeBefore = `${cluster.root}/made-before-sentinel.conf`;
        fs.writeFileSync(madeBefore, fs.readFileSync(cluster.nodes[0].sentinelConf, "utf8").split(sentinelUserPassword(REDIS_PASSWORD)).join(REDIS_PASSWORD).split("\n").filter((l) => !l.startsWith("sentinel auth-user ")).join("\n"));
        const fromConf = runCheck(cluster, 2, madeBefore, noFile);
        // It logs in; the Sentinels' logins are judged on the nodes themselves, not from this file.
        expect(fromConf.report.failures).toEqual([]);
        expect(fromConf.status).toBe(0);
        const neither = runCheck(cluster, 2, `${cluster.root}/no-sentinel.conf`, noFile);
        expect(neither.report.failures[0]).toMatch(/neither .*made-before-operator-credentials nor .*no-sentinel\.conf is readable/);
    }, 120000);

    test("a replica down: the master's view names how many are missing", async () => {
        const replica = cluster.nodes[2];
        await cluster.stop(replica.redis);
        try {
            const { status, report } = runCheck(cluster, 2);
            expect(status).toBe(1);
            expect(report.failures).toContain(`master ${cluster.nodes[0].address}:${cluster.nodes[0].redisPort} sees 1 of 2 replicas online`);
            // Sentinels notice a replica gone only after down-after-milliseconds; the master's view is immediate.
        } finally {
            await cluster.startRedis(replica);
        }
    }, 30000);

    test("a Sentinel down is named, and the others still agree", async () => {
        const node = cluster.nodes[1];
        await cluster.stop(node.sentinel);
        try {
            const { status, report } = runCheck(cluster, 2);
            expect(status).toBe(1);
            expect(report.failures.join("\n")).toContain(`sentinel ${node.address}:${node.sentinelPort} cannot name master redis-ha`);
            expect(report.sentinels).toHaveLength(2);
        } finally {
            await cluster.startSentinel(node);
        }
    }, 30000);

    test("a Sentinel that still remembers a replica as a master is named, since a failover then could be undone", async () => {
        // A replica made master by hand is what every Sentinel's INFO then reports; the same stale
        // "role-reported master" is what a rejoined old master leaves behind in a Sentinel for up to 10 s.
        const replica = cluster.nodes[1];
        const master = cluster.nodes[0];
        const cli = (node: typeof replica, args: string[]) =>
            spawnSync("redis-cli", ["-h", node.address, "-p", String(node.redisPort), ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } });
        expect(cli(replica, ["REPLICAOF", "NO", "ONE"]).stdout.trim()).toBe("OK");
        try {
            const expected = `still sees replica ${replica.address}:${replica.redisPort} as a master`;
            const seen: string[] = [];
            // Sentinels read a replica's INFO every 10 s.
            const until = Date.now() + 25000;
            while (Date.now() < until && !seen.some((f) => f.includes(expected))) {
                const { status, report } = runCheck(cluster, 1);
                expect(status).toBe(1);
                seen.push(...report.failures);
                await new Promise((r) => setTimeout(r, 500));
            }
            expect(seen.find((f) => f.includes(expected))).toMatch(/^sentinel 127\.0\.\d+\.\d+:\d+ still sees replica .* \(role-reported master, .*\): a failover now could be undone/);
        } finally {
            cli(replica, ["REPLICAOF", master.address, String(master.redisPort)]);
        }
    }, 60000);

    describe("the host's own facts, checked once the cluster is healthy", () => {
        // The check runs "on" node 0: its Redis is the master, its Sentinel the first.
        const dataNodes = () => cluster.nodes.map((n) => `${n.address}:${n.redisPort}`);
        const cli = (args: string[]) => spawnSync("redis-cli", ["-h", cluster.nodes[0].address, "-p", String(cluster.nodes[0].redisPort), ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } }).stdout.trim();
        let dir: string;
        beforeEach(() => {
            // Searched instead of /etc and the rest, so the test plants its own leaks; nobody must be able to enter it.
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-hardening-"));
            fs.chmodSync(dir, 0o755);
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        const check = (env: NodeJS.ProcessEnv = process.env) => runCheck(cluster, 20, undefined, { dataNodes: dataNodes(), hardening: { secretSearchDirs: [dir] } }, env);

        test("a healthy, rendered host passes and says what it judged: the build, the listeners, protected-mode, ACL users, no readable secret", () => {
            fs.writeFileSync(path.join(dir, "root-only.conf"), `requirepass ${REDIS_PASSWORD}\n`, { mode: 0o600 });
            const { status, stdout, report } = check();
            expect(report.failures).toEqual([]);
            expect(status).toBe(0);
            expect(new Set(report.hardened.map((h) => h.split(" ")[0]))).toEqual(new Set(["build", "listen", "protected-mode", "acl", "exporter-login", "secrets"]));
            expect(stdout).toContain(`HARDEN listen ok ${cluster.nodes[0].redisPort} `);
            // It logged in as the operators' user, not as default, which apps made before the app user may share.
            expect(stdout).toMatch(/HARDEN acl ok redis default=on users=default,operator,app,sentinel,replica,exporter .* checked-as=operator$/m);
            expect(stdout).toMatch(/HARDEN acl ok sentinel users=default,admin default-refused=SENTINEL-SET,SENTINEL-MONITOR,SENTINEL-REMOVE,SENTINEL-FAILOVER,SENTINEL-RESET,SENTINEL-CONFIG,SENTINEL-IS-MASTER-DOWN-BY-ADDR,PUBLISH,ACL,CLIENT,SHUTDOWN peer-logins=2/);
        }, 60000);

        test("a default user that takes the stack's password, where the stack wants it off, is named", () => {
            // This cluster is rendered with default on, as a deployment made before it went off is.
            const { status, report } = runCheck(cluster, 20, undefined, { dataNodes: dataNodes(), hardening: { secretSearchDirs: [dir], legacyDefaultUser: false } });
            expect(status).toBe(1);
            expect(report.failures).toEqual(["local-0: Redis's default user is on or takes a password: whoever holds it logs in without a user name, with every permission it has (turn it off by hand: ACL SETUSER default reset, then CONFIG REWRITE; pulumi up does it, refusing while apps log in as it, when its default-user step runs: a changed legacyDefaultUser or a replaced host)"]);
        }, 60000);

        test("a Sentinel whose default user, which apps ask with, may reconfigure it or fail over is named", () => {
            const sentinel0 = cluster.nodes[0];
            const asAdmin = (args: string[]) => spawnSync("redis-cli", ["--user", SENTINEL_ADMIN_USER, "-h", sentinel0.address, "-p", String(sentinel0.sentinelPort), "--no-auth-warning", ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: SENTINEL_PASSWORD } }).stdout.trim();
            expect(asAdmin(["ACL", "SETUSER", "default", "+sentinel|set", "+sentinel|failover"])).toBe("OK");
            try {
                expect(check().report.failures).toEqual(["local-0: Sentinel's default user, which apps ask with, may run SENTINEL SET redis-ha-probe quorum 1, SENTINEL FAILOVER redis-ha-probe: a leaked app secret could point the apps at another master (the settings rollout sets its rules again: pulumi up)"]);
            } finally {
                expect(asAdmin(["ACL", "SETUSER", "default", "-sentinel|set", "-sentinel|failover"])).toBe("OK");
            }
            expect(check().report.failures).toEqual([]);
        }, 60000);

        test("a password in a file every user can read is named; one in a directory nobody can enter is not", () => {
            fs.writeFileSync(path.join(dir, "leak.log"), `connecting with ${REDIS_PASSWORD}\n`, { mode: 0o644 });
            const closed = path.join(dir, "closed");
            fs.mkdirSync(closed, { mode: 0o700 });
            fs.writeFileSync(path.join(closed, "behind-a-door.log"), `${REDIS_PASSWORD}\n`, { mode: 0o644 });
            const { status, report } = check();
            expect(status).toBe(1);
            expect(report.failures).toEqual([`local-0: a password is readable by every user of the host in ${path.join(dir, "leak.log")}: chmod o-r them (and find what wrote them)`]);
        }, 60000);

        test("a password derived from the stack's (here the Sentinels' client one, which the exporter's file holds) in a world-readable file is named too", () => {
            fs.writeFileSync(path.join(dir, "sentinel-exporter.json"), `{"redis://127.0.0.1:26379":"${sentinelClientPassword(SENTINEL_PASSWORD)}"}\n`, { mode: 0o644 });
            const { status, report } = check();
            expect(status).toBe(1);
            expect(report.failures).toEqual([`local-0: a password is readable by every user of the host in ${path.join(dir, "sentinel-exporter.json")}: chmod o-r them (and find what wrote them)`]);
        }, 60000);

        test("Redis listening on every address, without protected-mode, or with an ACL user redis-ha did not create: each named", () => {
            expect(cli(["CONFIG", "SET", "bind", "0.0.0.0 -::1"])).toBe("OK");
            expect(cli(["CONFIG", "SET", "protected-mode", "no"])).toBe("OK");
            expect(cli(["ACL", "SETUSER", "intruder", "on", ">intruder-password-123", "+@all", "~*"])).toBe("OK");
            try {
                const { status, report } = check();
                expect(status).toBe(1);
                const failures = report.failures.join("\n");
                expect(failures).toMatch(new RegExp(`local-0: port ${cluster.nodes[0].redisPort} listens on 0\\.0\\.0\\.0, beyond this deployment's private addresses and loopback`));
                expect(failures).toContain("local-0: Redis runs with protected-mode no, not yes");
                expect(failures).toContain("local-0: Redis has ACL users redis-ha did not create: intruder");
            } finally {
                cli(["ACL", "DELUSER", "intruder"]);
                cli(["CONFIG", "SET", "protected-mode", "yes"]);
                cli(["CONFIG", "SET", "bind", `${cluster.nodes[0].address} 127.0.0.1 -::1`]);
            }
        }, 60000);

        test("a node without the operator user is named, and still checked, logged in as default", () => {
            const line = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8").split("\n").find((l) => l.startsWith("user operator "))!;
            expect(cli(["ACL", "DELUSER", "operator"])).toBe("1");
            try {
                const { status, report } = check();
                expect(status).toBe(1);
                expect(report.failures).toEqual(["local-0: Redis has no enabled operator user as rendered: the checks and the day-2 scripts log in as default, which apps made before the app user may share (the settings rollout makes it: pulumi up)"]);
            } finally {
                expect(cli(["ACL", "SETUSER", ...line.split(" ").slice(1)])).toBe("OK");
            }
            expect(check().stdout).toMatch(/ checked-as=operator$/m);
        }, 60000);

        test("an app user that may reconfigure or stop the server, or that lost its password, is named", () => {
            const cluster0Conf = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8");
            expect(cli(["ACL", "SETUSER", "app", "+config", "+shutdown"])).toBe("OK");
            try {
                const { status, report } = check();
                expect(status).toBe(1);
                expect(report.failures).toEqual(["local-0: Redis's app user may run CONFIG SET maxmemory 0, SHUTDOWN NOSAVE: a leaked app password could reconfigure or stop the server (the rollout sets its rules again)"]);
                expect(cli(["ACL", "SETUSER", "app", "-config", "-shutdown", "nopass"])).toBe("OK");
                expect(check().report.failures).toEqual(["local-0: a Redis user takes no password (nopass): anyone who reaches the port may log in as it"]);
            } finally {
                // As rendered again: the file's own user line.
                const line = cluster0Conf.split("\n").find((l) => l.startsWith("user app "))!;
                expect(cli(["ACL", "SETUSER", ...line.split(" ").slice(1)])).toBe("OK");
            }
            expect(check().report.failures).toEqual([]);
        }, 60000);

        test("an exporters' user that may read the config (masterauth) or a key, or that is missing, is named", () => {
            const line = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8").split("\n").find((l) => l.startsWith("user exporter "))!;
            expect(cli(["ACL", "SETUSER", "exporter", "+config|get", "~*", "+get"])).toBe("OK");
            try {
                expect(check().report.failures).toEqual(["local-0: Redis's exporter user may run GET redis-ha-probe, CONFIG GET masterauth: a leaked exporter login (its file is readable by the prometheus group) could do more than read INFO (the rollout sets its rules again)"]);
                expect(cli(["ACL", "DELUSER", "exporter"])).toBe("1");
                expect(check().report.failures).toEqual(["local-0: Redis has no enabled exporter user as rendered: the exporter would need the stack's password, whose file the prometheus group reads (the settings rollout makes it: pulumi up)"]);
            } finally {
                expect(cli(["ACL", "SETUSER", ...line.split(" ").slice(1)])).toBe("OK");
            }
            expect(check().report.failures).toEqual([]);
        }, 60000);

        test("a Sentinels' user that may do more than fail over, or a Sentinel logging in as default, is named", async () => {
            const cluster0Conf = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8");
            // (A key command stays refused without a key pattern, whatever the commands granted.)
            expect(cli(["ACL", "SETUSER", SENTINEL_USER, "+flushall", "+config|set", "+set"])).toBe("OK");
            try {
                expect(check().report.failures).toEqual([`local-0: Redis's ${SENTINEL_USER} user may run FLUSHALL, CONFIG SET maxmemory 0: a leaked Sentinel login could do more than fail over (the rollout sets its rules again)`]);
            } finally {
                const line = cluster0Conf.split("\n").find((l) => l.startsWith(`user ${SENTINEL_USER} `))!;
                expect(cli(["ACL", "SETUSER", ...line.split(" ").slice(1)])).toBe("OK");
            }
            // Sentinel 2 back on the default user with the stack's password, as a first boot leaves it.
            const sentinel2 = cluster.nodes[2];
            const sentinelCli = (args: string[]) => spawnSync("redis-cli", ["--user", SENTINEL_ADMIN_USER, "-h", sentinel2.address, "-p", String(sentinel2.sentinelPort), "--no-auth-warning", ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: SENTINEL_PASSWORD } }).stdout.trim();
            const id = sentinelCli(["SENTINEL", "MYID"]).slice(0, 8);
            expect(sentinelCli(["SENTINEL", "SET", cluster.masterName, "auth-user", "", "auth-pass", REDIS_PASSWORD])).toBe("OK");
            try {
                await waitFor("sentinel 2 to log in to node 0 again", () => / name=sentinel-\w+-cmd .* user=default /.test(cli(["CLIENT", "LIST"])), 15000, () => cli(["CLIENT", "LIST"]));
                // Its command link at least; CLIENT LIST lists its links in no set order.
                expect(check().report.failures).toEqual([expect.stringMatching(new RegExp(`^local-0: Sentinels log in here as another user than ${SENTINEL_USER}: (?=.*\\bsentinel-${id}-cmd as default\\b).* \\(the settings rollout moves them: pulumi up\\)$`))]);
            } finally {
                expect(sentinelCli(["SENTINEL", "SET", cluster.masterName, "auth-user", SENTINEL_USER, "auth-pass", sentinelUserPassword(REDIS_PASSWORD)])).toBe("OK");
            }
            await waitFor("sentinel 2 to log in as its user again", () => !/ name=sentinel-\w+-(cmd|pubsub) .* user=default /.test(cli(["CLIENT", "LIST"])), 15000, () => cli(["CLIENT", "LIST"]));
            expect(check().report.failures).toEqual([]);
        }, 90000);

        test("a replication user that may do more than replicate, or a replica logging in as default, is named", async () => {
            const cluster0Conf = fs.readFileSync(path.join(cluster.nodes[0].dir, "redis.conf"), "utf8");
            expect(cli(["ACL", "SETUSER", REPLICATION_USER, "+flushall", "+replicaof"])).toBe("OK");
            try {
                expect(check().report.failures).toEqual([`local-0: Redis's ${REPLICATION_USER} user may run FLUSHALL, REPLICAOF NO ONE: a leaked replication login (masterauth is in every redis.conf) could do more than replicate (the rollout sets its rules again)`]);
            } finally {
                const line = cluster0Conf.split("\n").find((l) => l.startsWith(`user ${REPLICATION_USER} `))!;
                expect(cli(["ACL", "SETUSER", ...line.split(" ").slice(1)])).toBe("OK");
            }
            // Replica 1 back on the default user with the stack's password, as a node made before the replication user replicates.
            const replica = cluster.nodes[1];
            const replicaCli = (args: string[]) => spawnSync("redis-cli", ["-h", replica.address, "-p", String(replica.redisPort), "--no-auth-warning", ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD } }).stdout.trim();
            const replicaLinks = () => cli(["CLIENT", "LIST"]).split("\n").filter((l) => / flags=S /.test(l));
            // Until the master holds one link logged in as each of `users` (replica 1's and replica 2's).
            const relink = async (user: string, password: string, users: string[]) => {
                expect(replicaCli(["CONFIG", "SET", "masteruser", user])).toBe("OK");
                expect(replicaCli(["CONFIG", "SET", "masterauth", password])).toBe("OK");
                replicaCli(["CLIENT", "KILL", "TYPE", "master"]);
                await waitFor(`replica 1 to replicate again as ${user || "default"}`, () => replicaLinks().map((l) => /\buser=(\S+)/.exec(l)![1]).sort().join() === users.join() && /master_link_status:up/.test(replicaCli(["INFO", "replication"])), 20000, () => replicaLinks().join("\n"));
            };
            await relink("", REDIS_PASSWORD, ["default", REPLICATION_USER]);
            try {
                expect(check().report.failures).toEqual([expect.stringMatching(new RegExp(`^local-0: replicas log in here as another user than ${REPLICATION_USER}: 127\\.0\\.0\\.\\d+:\\d+ as default \\(the settings rollout moves them: pulumi up\\)$`))]);
            } finally {
                await relink(REPLICATION_USER, replicationPassword(REDIS_PASSWORD), [REPLICATION_USER, REPLICATION_USER]);
            }
            expect(check().report.failures).toEqual([]);
        }, 90000);

        test("a data node without a Sentinel runs the same host facts alone, logged in with its operator credentials (or, made before them, its redis.conf's), and fails on the same leak", () => {
            // Node 0's Redis as if it had no Sentinel: no Sentinel's facts are judged.
            const run = (operatorCredentialsPath = cluster.operatorFile) => {
                const script = renderHostHardeningScript({ hostName: "local-0", sentinels: cluster.sentinelEndpoints(), dataNodes: dataNodes(), redisConfPath: path.join(cluster.nodes[0].dir, "redis.conf"), sentinelPasswordPath: path.join(dir, "none"), operatorCredentialsPath, hardening: { secretSearchDirs: [dir], legacyDefaultUser: cluster.legacyDefaultUser } });
                const result = spawnSync("bash", ["-s"], { input: script, encoding: "utf8", timeout: 90000 });
                return { ...result, report: parseCheckOutput(result.stdout) };
            };
            const madeBefore = run(path.join(dir, "no-operator-credentials"));
            expect(madeBefore.report.failures).toEqual([]);
            expect(madeBefore.stdout).toContain("HARDEN acl ok");
            const healthy = run();
            expect(healthy.report.failures).toEqual([]);
            expect(healthy.status).toBe(0);
            expect(healthy.stdout).toMatch(/HARDEN acl ok redis default=on users=default,operator,app,sentinel,replica,exporter app-refused=CONFIG,FLUSHALL,DEBUG,REPLICAOF,ACL,SHUTDOWN,MONITOR sentinel-refused=SET,GET,FLUSHALL,CONFIG,DEBUG,ACL,SHUTDOWN,MONITOR replica-refused=SET,GET,FLUSHALL,CONFIG,DEBUG,REPLICAOF,ACL,SHUTDOWN,MONITOR,PUBLISH exporter-refused=GET,SET,CONFIG,FLUSHALL,DEBUG,ACL,SHUTDOWN,MONITOR,CLIENT,SUBSCRIBE sentinel-logins=[1-9]\d* replica-logins=2/);
            expect(healthy.stdout).not.toContain("protected-mode ok sentinel");
            fs.writeFileSync(path.join(dir, "leak.log"), `${REDIS_PASSWORD}\n`, { mode: 0o644 });
            const leaking = run();
            expect(leaking.status).toBe(1);
            expect(leaking.report.failures).toEqual([`local-0: a password is readable by every user of the host in ${path.join(dir, "leak.log")}: chmod o-r them (and find what wrote them)`]);
            expect(leaking.stderr).toContain("redis-ha hardening check failed on local-0");
        }, 60000);

        test("a Redis build older than the release's first with every 2025-2026 fix fails, naming the fixes and the build to reach", () => {
            // dpkg-query as a host with an older build would answer; dpkg's own comparison judges it.
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            const release = spawnSync("sh", ["-c", ". /etc/os-release && printf %s \"$VERSION_ID\""], { encoding: "utf8" }).stdout as keyof typeof PATCHED_REDIS_BUILDS;
            const older = { "12": "5:7.0.15-1~deb12u6", "13": "5:8.0.2-3+deb13u2" }[release];
            if (!older) throw new Error(`this machine runs Debian ${release}, which the test has no older build for`);
            fs.writeFileSync(path.join(bin, "dpkg-query"), `#!/bin/sh\nprintf '%s' '${older}'\n`, { mode: 0o755 });
            const { status, report } = check({ ...process.env, PATH: `${bin}:${process.env.PATH}` });
            expect(status).toBe(1);
            const escaped = (text: string) => text.replace(/[.+~()]/g, (c) => `\\${c}`);
            const minimum = PATCHED_REDIS_BUILDS[release].minimum;
            expect(report.failures).toHaveLength(1);
            expect(report.failures[0]).toMatch(new RegExp(`^local-0: redis-tools ${escaped(older)} lacks fixes for CVE-2025-.*CVE-2026-81934.* ${escaped(`(Debian ${release}'s first build with all of them is ${minimum})`)}: apt-get update`));
        }, 60000);
    });

    test("after the faults are repaired the check passes again", () => {
        const { status, report } = runCheck(cluster, 40);
        expect(report.failures).toEqual([]);
        expect(status).toBe(0);
    }, 60000);
});

describe("check output parser", () => {
    test("a run that died mid-way is an error, not a pass", () => {
        expect(() => parseCheckOutput("SENTINEL 10.0.0.1:26379 master=10.0.0.1:6379\n")).toThrow(/no RESULT line/);
    });

    test("disagreeing Sentinels have no agreed master", () => {
        const report = parseCheckOutput([
            "SENTINEL 10.0.0.1:26379 master=10.0.0.1:6379",
            "SENTINEL 10.0.0.2:26379 master=10.0.0.2:6379",
            "FAIL sentinels disagree on the master: 10.0.0.1:26379=10.0.0.1:6379 10.0.0.2:26379=10.0.0.2:6379",
            "RESULT fail attempts=7",
        ].join("\n"));
        expect(report.ok).toBe(false);
        expect(report.agreedMaster).toBeUndefined();
        expect(report.attempts).toBe(7);
        expect(report.failures).toHaveLength(1);
    });

    test("SENTINEL REPLICAS: an empty run id keeps the pairs aligned, and a replica remembered as a master is found", () => {
        const replica = (name: string, runid: string, role: string) =>
            ["name", name, "ip", name.split(":")[0], "port", "6379", "runid", runid, "flags", "slave", "role-reported", role, "role-reported-time", "8812", "master-link-status", "ok"];
        const raw = [...replica("10.42.0.12:6379", "", "master"), ...replica("10.42.0.13:6379", "4f1c", "slave")].join("\n") + "\n";
        const parsed = parseSentinelReplicas(raw);
        expect(parsed.map((r) => [r.get("name"), r.get("runid"), r.get("role-reported")])).toEqual([["10.42.0.12:6379", "", "master"], ["10.42.0.13:6379", "4f1c", "slave"]]);
        expect(replicasRememberedAsMasters(raw)).toEqual(["10.42.0.12:6379"]);
        expect(replicasRememberedAsMasters("")).toEqual([]);
    });
});
