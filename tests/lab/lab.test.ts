/**
 * The lab, for real: network namespaces, nftables, sshd, Debian's redis-server and redis-sentinel
 * started from the rendered files. Healthy passes the checks; each fault fails them with a message
 * that names it; the firewall admits the app and stops an outsider. Failover under write load is
 * tests/lab/drills.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { Lab, labUnavailableReason } from "../../lab/runtime";
import { run } from "../../components/platforms/lab/shell";
import { REPLICATION_USER, SENTINEL_USER, clientEnvironmentOf, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../../components/core/aclUsers";
import { waitFor } from "../../lab/drill";

const unavailable = labUnavailableReason();
if (unavailable) {
    console.warn(`\n!!! SKIPPED: the lab tests did NOT run: ${unavailable} !!!\n`);
}
const maybe = unavailable ? describe.skip : describe;

const id = `t${process.pid.toString(36)}`;
jest.setTimeout(120000);

maybe("the lab", () => {
    let lab: Lab;
    const host = (i: number) => lab.network.hosts[i];
    const redisAddress = (i: number) => `${host(i).address}:${lab.settings.redisPort}`;

    beforeAll(async () => {
        lab = await Lab.up({ stack: "lab", id, overrides: { checkTimeoutSeconds: "60" } });
    }, 120000);

    afterAll(async () => {
        await lab?.down();
        // Nothing may be left behind: no namespace, no process in one, no state.
        const namespaces = run(["ip", "netns", "list"]).stdout;
        expect(namespaces).not.toContain(`rha-${id}-`);
        expect(fs.existsSync(lab.dir)).toBe(false);
        expect(Lab.open({ id })).toBeUndefined();
    }, 60000);

    const failuresOf = async (timeoutSeconds = 3) => {
        const check = await lab.check(timeoutSeconds);
        expect(check.ok).toBe(false);
        return check.failures.join("\n");
    };
    const expectHealthy = async (timeoutSeconds = 30) => {
        const check = await lab.check(timeoutSeconds);
        expect(check.failures).toEqual([]);
        expect(check.ok).toBe(true);
        return check;
    };

    test("comes up healthy from the planner's hosts, zones and addresses, and says what it left out", async () => {
        expect(lab.network.hosts.map((h) => [h.namespace, h.plan.zone, h.address])).toEqual([
            [`rha-${id}-redis-0`, "lab-a", "10.42.0.11"],
            [`rha-${id}-redis-1`, "lab-b", "10.42.0.12"],
            [`rha-${id}-redis-2`, "lab-c", "10.42.0.13"],
        ]);
        const check = await expectHealthy();
        expect(check.reports).toHaveLength(3);
        expect(check.reports.every((r) => r.report?.agreedMaster === redisAddress(0))).toBe(true);
        // On every host the check logged in to Redis as the operators' user, not as default.
        expect(check.reports.map((r) => r.report?.hardened.find((h) => h.startsWith("acl redis "))?.split(" ").pop())).toEqual(["checked-as=operator", "checked-as=operator", "checked-as=operator"]);
        // And each Redis exporter runs as the exporters' user (its login drop-in, read with its unit).
        expect(check.reports.map((r) => r.report?.hardened.find((h) => h.startsWith("exporter-login ")))).toEqual([0, 1, 2].map(() => "exporter-login redis user=exporter"));
        const table = lab.table(check);
        expect(table).toMatch(new RegExp(`rha-${id}-redis-0\\s+lab-a\\s+master\\s+10\\.42\\.0\\.11\\s+2 replicas online`));
        expect(lab.skipped.join("\n")).toMatch(/sysctl.*would change this machine/);
        expect(lab.skipped.join("\n")).toMatch(/packages \(redis-server, redis-sentinel, redis-tools, prometheus-redis-exporter\)/);
    });

    test("each host runs from exactly the rendered files, at Debian's paths, as user redis", async () => {
        const userData = fs.readFileSync(path.join(lab.dir, "hosts", host(1).namespace, "user-data"), "utf8");
        const shown = await lab.ssh(host(1).namespace, "cat /etc/redis/redis.conf; id -un; stat -c '%U %a' /etc/redis/redis.conf; ps -o user= -C redis-server");
        expect(shown.status).toBe(0);
        const redisConf = fs.readFileSync(path.join(lab.dir, "hosts", host(1).namespace, "etc-redis", "redis.conf"), "utf8");
        expect(userData).toContain(redisConf.split("\n").find((l) => l.startsWith("replicaof")));
        expect(shown.stdout).toContain("replicaof 10.42.0.11 6379");
        expect(shown.stdout).toMatch(/^root$/m);
        expect(shown.stdout).toMatch(/^redis 640$/m);
        expect(shown.stdout).toMatch(/^redis$/m);
    });

    test("unauthenticated commands are refused on 6379 and 26379", async () => {
        const app = lab.network.app.namespace;
        const onRedis = await lab.redisCli(app, host(0).address, lab.settings.redisPort, ["SET", "k", "v"]);
        expect(onRedis.stdout + onRedis.stderr).toMatch(/NOAUTH/);
        const onSentinel = await lab.redisCli(app, host(0).address, lab.settings.sentinelPort, ["SENTINEL", "masters"]);
        expect(onSentinel.stdout + onSentinel.stderr).toMatch(/NOAUTH/);
        const wrong = await lab.redisCli(app, host(0).address, lab.settings.redisPort, ["PING"], "not-the-password-123");
        expect(wrong.stdout + wrong.stderr).toMatch(/WRONGPASS|invalid username-password/);
    });

    test("the app's user (clientEnvironment) uses data, and is refused what reconfigures or stops the cluster", async () => {
        const app = lab.network.app.namespace;
        const env = clientEnvironmentOf(lab.secrets.redisPassword, lab.secrets.sentinelPassword);
        const asApp = async (i: number, args: string[]) => {
            const r = await lab.redisCli(app, host(i).address, lab.settings.redisPort, args, env.REDIS_PASSWORD, env.REDIS_USERNAME);
            return (r.stdout + r.stderr).trim();
        };
        expect(await asApp(0, ["SET", "acl:app", "written"])).toBe("OK");
        expect(await asApp(0, ["GET", "acl:app"])).toBe("written");
        expect(await asApp(0, ["ROLE"])).toMatch(/^master\n/);
        expect(await asApp(0, ["INFO", "replication"])).toMatch(/^role:master/m);
        expect(await asApp(0, ["EVAL", "return redis.call('GET', KEYS[1])", "1", "acl:app"])).toBe("written");
        const refused: Record<string, string> = {};
        for (const command of [["CONFIG", "SET", "maxmemory", "1"], ["FLUSHALL"], ["DEBUG", "SLEEP", "0"], ["REPLICAOF", "NO", "ONE"], ["ACL", "SETUSER", "app", "nopass"], ["SHUTDOWN", "NOSAVE"], ["MONITOR"], ["PUBLISH", "__sentinel__:hello", "forged"]]) {
            refused[command.join(" ")] = await asApp(0, command);
        }
        // DEBUG is refused before the ACL is asked (enable-debug-command no); the hardening check asks the ACL itself (ACL DRYRUN).
        for (const [command, answer] of Object.entries(refused)) expect({ command, answer }).toEqual({ command, answer: expect.stringMatching(command.startsWith("DEBUG") ? /^(NOPERM |ERR DEBUG command not allowed)/ : /^NOPERM /) });
        expect((await lab.operatorCli(app, host(0).address, ["ACL", "DRYRUN", "app", "DEBUG", "SLEEP", "0"])).stdout).toMatch(/no permissions to run the 'debug' command/);
        // Nothing of it happened: the master still runs, with its settings and its data.
        expect((await lab.operatorCli(app, host(0).address, ["CONFIG", "GET", "maxmemory"])).stdout.trim().split("\n")[1]).not.toBe("1");
        expect(await asApp(0, ["GET", "acl:app"])).toBe("written");
        // A replica refuses the app's writes as any client's (READONLY), and serves its reads.
        expect(await asApp(1, ["SET", "acl:app", "x"])).toMatch(/^READONLY /);
        // And the stack's own Redis password is not what apps get, nor does it open anything without a user name: default is off.
        expect(Object.values(env)).not.toContain(lab.secrets.redisPassword);
        for (let i = 0; i < 3; i++) expect((await lab.redisCli(app, host(i).address, lab.settings.redisPort, ["PING"], lab.secrets.redisPassword)).stdout.trim()).toMatch(/NOAUTH|WRONGPASS/);
    });

    test("the apps' Sentinel login (clientEnvironment) finds the master and the replicas, and is refused whatever would change a Sentinel's view", async () => {
        const app = lab.network.app.namespace;
        const env = clientEnvironmentOf(lab.secrets.redisPassword, lab.secrets.sentinelPassword);
        const master = lab.settings.masterName;
        const asApp = async (args: string[]) => {
            // Sentinel's default user: Predis cannot send a Sentinel a user name.
            const r = await lab.redisCli(app, host(1).address, lab.settings.sentinelPort, args, env.REDIS_SENTINEL_PASSWORD);
            return (r.stdout + r.stderr).trim();
        };
        expect((await asApp(["SENTINEL", "get-master-addr-by-name", master])).split("\n")).toEqual([host(0).address, String(lab.settings.redisPort)]);
        expect(await asApp(["SENTINEL", "REPLICAS", master])).toContain(host(2).address);
        const refused: Record<string, string> = {};
        for (const command of [["SENTINEL", "SET", master, "quorum", "1"], ["SENTINEL", "MONITOR", "rogue", "10.0.0.1", "6379", "1"], ["SENTINEL", "REMOVE", master],
            ["SENTINEL", "FAILOVER", master], ["SENTINEL", "RESET", master], ["SENTINEL", "CONFIG", "SET", "sentinel-pass", "x"], ["PUBLISH", "__sentinel__:hello", "forged"],
            ["ACL", "SETUSER", "default", "+@all"], ["CLIENT", "KILL", "TYPE", "normal"], ["SHUTDOWN", "NOSAVE"]]) {
            refused[command.join(" ")] = await asApp(command);
        }
        for (const [command, answer] of Object.entries(refused)) expect({ command, answer }).toEqual({ command, answer: expect.stringMatching(/^NOPERM /) });
        // Nothing of it happened: the Sentinel still monitors the master with its quorum, and knows no other.
        expect((await lab.sentinelAdminCli(app, host(1).address, ["SENTINEL", "CKQUORUM", master])).stdout).toMatch(/^OK 3 usable Sentinels/);
        expect((await lab.sentinelAdminCli(app, host(1).address, ["SENTINEL", "MASTERS"])).stdout.split("\n").filter((_, i, all) => all[i - 1] === "name")).toEqual([master]);
        // And the stack's Sentinel password (admin's) is not what apps get.
        expect(Object.values(env)).not.toContain(lab.secrets.sentinelPassword);
    });

    test("every Sentinel logs in to the nodes as the Sentinels' user, which may fail over and nothing more", async () => {
        const app = lab.network.app.namespace;
        const asOperator = async (i: number, args: string[]) => (await lab.operatorCli(app, host(i).address, args)).stdout.trim();
        // First boot logs every Sentinel in as the Sentinels' user (default is off): on every node, each of its connections is that user's.
        for (let i = 0; i < 3; i++) {
            const logins = (await asOperator(i, ["CLIENT", "LIST"])).split("\n").filter((l) => / name=sentinel-/.test(l)).map((l) => /\buser=(\S+)/.exec(l)![1]);
            expect({ node: i, users: [...new Set(logins)] }).toEqual({ node: i, users: [SENTINEL_USER] });
            expect(logins.length).toBeGreaterThanOrEqual(3);
        }
        const asSentinelUser = async (args: string[]) => {
            const r = await lab.redisCli(app, host(1).address, lab.settings.redisPort, args, sentinelUserPassword(lab.secrets.redisPassword), SENTINEL_USER);
            return (r.stdout + r.stderr).trim();
        };
        expect(await asSentinelUser(["ROLE"])).toMatch(/^slave\n/);
        const refused: Record<string, string> = {};
        for (const command of [["GET", "acl:app"], ["SET", "acl:sentinel", "x"], ["FLUSHALL"], ["CONFIG", "SET", "maxmemory", "1"], ["ACL", "SETUSER", "sentinel", "+@all"], ["SHUTDOWN", "NOSAVE"], ["PUBLISH", "other", "x"]]) {
            refused[command.join(" ")] = await asSentinelUser(command);
        }
        for (const [command, answer] of Object.entries(refused)) expect({ command, answer }).toEqual({ command, answer: expect.stringMatching(/^NOPERM /) });
        // What a failover needs, it may (asked with ACL DRYRUN, which runs nothing; the drills fail over for real).
        for (const command of [["SLAVEOF", "NO", "ONE"], ["CONFIG", "REWRITE"], ["CLIENT", "KILL", "TYPE", "normal"], ["PUBLISH", "__sentinel__:hello", "x"]]) {
            expect({ command, answer: await asOperator(1, ["ACL", "DRYRUN", SENTINEL_USER, ...command]) }).toEqual({ command, answer: "OK" });
        }
    });

    test("every replica logs in to the master as the replication user, which may only replicate", async () => {
        const app = lab.network.app.namespace;
        const asOperator = async (i: number, args: string[]) => (await lab.operatorCli(app, host(i).address, args)).stdout.trim();
        const roles = await Promise.all([0, 1, 2].map(async (i) => (await asOperator(i, ["ROLE"])).split("\n")[0]));
        const master = roles.indexOf("master");
        expect(roles.filter((r) => r === "slave")).toHaveLength(2);
        const links = (await asOperator(master, ["CLIENT", "LIST"])).split("\n").filter((l) => / flags=S /.test(l)).map((l) => /\buser=(\S+)/.exec(l)![1]);
        expect(links).toEqual([REPLICATION_USER, REPLICATION_USER]);
        const asReplicationUser = async (args: string[]) => {
            const r = await lab.redisCli(app, host(master).address, lab.settings.redisPort, args, replicationPassword(lab.secrets.redisPassword), REPLICATION_USER);
            return (r.stdout + r.stderr).trim();
        };
        // What the boot guard asks with it.
        expect(await asReplicationUser(["ROLE"])).toMatch(/^master\n/);
        const refused: Record<string, string> = {};
        for (const command of [["GET", "acl:app"], ["SET", "acl:replica", "x"], ["FLUSHALL"], ["CONFIG", "SET", "maxmemory", "1"], ["REPLICAOF", "NO", "ONE"], ["SHUTDOWN", "NOSAVE"], ["PUBLISH", "__sentinel__:hello", "x"]]) {
            refused[command.join(" ")] = await asReplicationUser(command);
        }
        for (const [command, answer] of Object.entries(refused)) expect({ command, answer }).toEqual({ command, answer: expect.stringMatching(/^NOPERM /) });
    });

    test("the firewall admits the app to Redis and Sentinel, and nobody else than admins to SSH", async () => {
        const { sentinelPassword } = lab.secrets;
        const app = lab.network.app.namespace;
        expect((await lab.operatorCli(app, host(0).address, ["PING"])).stdout.trim()).toBe("PONG");
        expect((await lab.redisCli(app, host(1).address, lab.settings.sentinelPort, ["PING"], sentinelClientPassword(sentinelPassword))).stdout.trim()).toBe("PONG");
        const connect = (from: string, address: string, port: number) =>
            lab.exec(from, ["timeout", "2", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`], { timeoutMs: 5000 });
        for (const port of [lab.settings.redisPort, lab.settings.sentinelPort, 22]) {
            const outsider = await connect(lab.network.outsider.namespace, host(0).address, port);
            expect({ port, status: outsider.status }).toEqual({ port, status: 124 }); // dropped: the connect times out
        }
        expect((await connect(app, host(0).address, 22)).status).toBe(124);
        expect((await connect(lab.network.admin.namespace, host(0).address, 22)).status).toBe(0);
        expect((await connect(lab.network.admin.namespace, host(0).address, lab.settings.redisPort)).status).toBe(124);
    });

    test("every exporter answers the monitoring CIDRs (the admins' by default) with its Redis or Sentinel up, as user prometheus; the app and an outsider cannot scrape", async () => {
        const scrape = (from: string, target: string) => lab.exec(from, ["curl", "-sS", "--max-time", "3", `http://${target}/metrics`], { timeoutMs: 10000 });
        for (const h of lab.network.hosts) {
            for (const [port, mode] of [[9121, "standalone"], [9122, "sentinel"]] as const) {
                const metrics = await scrape(lab.network.admin.namespace, `${h.address}:${port}`);
                expect({ host: h.namespace, port, up: /^redis_up 1$/m.test(metrics.stdout), mode: new RegExp(`redis_mode="${mode}"`).test(metrics.stdout) })
                    .toEqual({ host: h.namespace, port, up: true, mode: true });
            }
        }
        // Dropped, so each waits for curl's timeout: all at once.
        const refused = lab.network.hosts.flatMap((h) => [9121, 9122].flatMap((port) => [lab.network.app.namespace, lab.network.outsider.namespace].map((from) => ({ from, target: `${h.address}:${port}` }))));
        const statuses = await Promise.all(refused.map(async ({ from, target }) => ({ from, target, status: (await scrape(from, target)).status })));
        expect(statuses).toEqual(refused.map((r) => ({ ...r, status: 28 }))); // curl's "operation timed out"
        const owner = await lab.ssh(host(0).namespace, "for pid in $(ss -ltnpH '( sport = :9121 or sport = :9122 )' | grep -o 'pid=[0-9]*' | cut -d= -f2); do ps -o user= -p \"$pid\"; done | sort -u; stat -c '%U:%G %a' /etc/redis-ha/redis-exporter.json /etc/redis-ha/sentinel-exporter.json");
        expect(owner.stdout.trim().split("\n")).toEqual(["prometheus", "root:prometheus 640", "root:prometheus 640"]);
        // The Redis exporter's user is allowed all it asks for (no refusal in ACL LOG after the scrapes
        // above), and its metrics are INFO's: the memory limit the alert rules read is there.
        for (const h of lab.network.hosts) {
            const refusals = await lab.operatorCli(lab.network.app.namespace, h.address, ["ACL", "LOG"]);
            expect({ host: h.namespace, status: refusals.status, exporterRefused: refusals.stdout.split("\n").some((l, i, all) => all[i - 1] === "username" && l === "exporter") })
                .toEqual({ host: h.namespace, status: 0, exporterRefused: false });
        }
        expect((await scrape(lab.network.admin.namespace, `${host(0).address}:9121`)).stdout).toMatch(/^redis_memory_max_bytes \d+/m);
        // The Sentinel's exporter sees what the alert rules read: the master, the quorum check.
        const sentinel = (await scrape(lab.network.admin.namespace, `${host(1).address}:9122`)).stdout;
        expect(sentinel).toMatch(new RegExp(`^redis_sentinel_master_status\\{master_address="${redisAddress(0).replace(/\./g, "\\.")}",master_name="${lab.settings.masterName}",master_status="ok"\\} 1$`, "m"));
        expect(sentinel).toMatch(/^redis_sentinel_master_ckquorum_status\{.*\} 1$/m);
    });

    test("a replica down fails the check, naming what the master sees", async () => {
        await lab.stop(host(2).namespace, "redis");
        try {
            expect(await failuresOf()).toContain(`master ${redisAddress(0)} sees 1 of 2 replicas online`);
        } finally {
            await lab.start(host(2).namespace, "redis");
        }
        await expectHealthy();
    });

    test("a Sentinel down fails the check, naming that Sentinel", async () => {
        await lab.stop(host(1).namespace, "sentinel");
        try {
            expect(await failuresOf()).toContain(`sentinel ${host(1).address}:${lab.settings.sentinelPort} cannot name master ${lab.settings.masterName}`);
        } finally {
            await lab.start(host(1).namespace, "sentinel");
        }
        await expectHealthy();
    });

    test("two Sentinels down: the check says there is no quorum", async () => {
        await lab.stop(host(1).namespace, "sentinel");
        await lab.stop(host(2).namespace, "sentinel");
        try {
            const failures = await failuresOf();
            expect(failures).toMatch(/SENTINEL CKQUORUM fails: NOQUORUM 1 usable Sentinels/);
        } finally {
            await lab.start(host(1).namespace, "sentinel");
            await lab.start(host(2).namespace, "sentinel");
        }
        await expectHealthy();
    });

    test("Sentinels disagreeing on the master fail the check", async () => {
        const { redisPassword } = lab.secrets;
        const app = lab.network.app.namespace; // Sentinel admits the app CIDRs and the cluster only, not admins
        const sentinel = (i: number, args: string[]) => lab.sentinelAdminCli(app, host(i).address, args);
        // One Sentinel forgets the master and is pointed at a replica instead.
        const monitor = async (i: number, address: string) => {
            await sentinel(i, ["SENTINEL", "REMOVE", lab.settings.masterName]);
            await sentinel(i, ["SENTINEL", "MONITOR", lab.settings.masterName, address, String(lab.settings.redisPort), String(lab.plan.quorum)]);
            // As the rollout leaves it: logged in as the Sentinels' user.
            await sentinel(i, ["SENTINEL", "SET", lab.settings.masterName, "auth-user", SENTINEL_USER, "auth-pass", sentinelUserPassword(redisPassword)]);
            await sentinel(i, ["SENTINEL", "SET", lab.settings.masterName, "down-after-milliseconds", String(lab.settings.downAfterMilliseconds)]);
        };
        await monitor(2, host(1).address);
        try {
            expect(await failuresOf()).toMatch(new RegExp(`sentinels disagree on the master: .*=${redisAddress(0).replace(/\./g, "\\.")}.*=${redisAddress(1).replace(/\./g, "\\.")}`));
        } finally {
            await monitor(2, host(0).address);
        }
        await expectHealthy(60);
    });

    test("a Sentinel with a wrong Redis password fails the check, named by what it can no longer see", async () => {
        // The check logs in with the host's operator credentials, not the Sentinel's auth-pass: a
        // Sentinel that cannot log in is found by what it reports, from every host's check.
        const { redisPassword } = lab.secrets;
        const app = lab.network.app.namespace; // Sentinel admits the app CIDRs and the cluster only, not admins
        const broken = `${host(1).address}:${lab.settings.sentinelPort}`;
        const sentinel = (args: string[]) => lab.sentinelAdminCli(app, host(1).address, args);
        const setAuth = (password: string) => sentinel(["SENTINEL", "SET", lab.settings.masterName, "auth-pass", password]);
        expect((await setAuth("Wrong-password-0123456789")).stdout.trim()).toBe("OK");
        try {
            // Sentinel drops its links at the SET; it calls the replicas down once they have failed
            // to answer for down-after-milliseconds, and stays so while it cannot log in.
            const replicaFlags = async () => (await sentinel(["SENTINEL", "REPLICAS", lab.settings.masterName])).stdout.split("\n").filter((_, i, all) => all[i - 1] === "flags");
            await waitFor("the Sentinel with the wrong password to call the replicas down", async () => (await replicaFlags()).filter((f) => f.includes("s_down")).length === 2, 60000, () => "flags never showed s_down for both replicas");
            expect(await failuresOf()).toContain(`sentinel ${broken} knows 0 of 2 replicas as healthy`);
        } finally {
            await setAuth(sentinelUserPassword(redisPassword));
        }
        await expectHealthy(60);
    });
});
