/**
 * The handoff of a replaced host, run for real: bash, redis-cli, redis-server and redis-sentinel on
 * loopback, started from the project's rendered configs. A replaced VM is played by a node whose
 * processes are killed and whose data and rewritten configs are wiped, then started afresh at the
 * same address (tests/support/localRedis.ts, replace()).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { renderHandoffScript } from "../../cloud-init/handoffScript";
import { LocalCluster, LocalNode, redisAvailable } from "../support/localRedis";
import { SENTINEL_ADMIN_USER } from "../../components/core/aclUsers";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";

if (!redisAvailable) console.warn("\n!!! SKIPPED: redis-server/redis-sentinel are not installed; the handoff script is NOT exercised. Run `npm run setup`. !!!\n");
const maybe = redisAvailable ? describe : describe.skip;

maybe("handoff of a replaced host against real Redis and Sentinel", () => {
    let cluster: LocalCluster;
    const at = (n: LocalNode) => `${n.address}:${n.redisPort}`;
    const cli = (n: LocalNode, args: string[], sentinel = false) =>
        spawnSync("redis-cli", [...(sentinel ? ["--user", SENTINEL_ADMIN_USER] : []), "-h", n.address, "-p", String(sentinel ? n.sentinelPort : n.redisPort), "--raw", ...args], {
            encoding: "utf8",
            env: { ...process.env, REDISCLI_AUTH: sentinel ? SENTINEL_PASSWORD : REDIS_PASSWORD },
        }).stdout.trim();
    const sentinelField = (n: LocalNode, key: string) => {
        const lines = cli(n, ["SENTINEL", "MASTER", cluster.masterName], true).split("\n");
        return lines[lines.indexOf(key) + 1];
    };
    const namedMaster = (n: LocalNode) => cli(n, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", cluster.masterName], true).split("\n").join(":");

    function handoff(node: LocalNode, action: "leave" | "join", replacedBefore: LocalNode[] = [], sentinels = cluster.sentinelEndpoints()) {
        const script = renderHandoffScript({
            hostName: `local-${node.index}`,
            masterName: cluster.masterName,
            dataNode: at(node),
            sentinel: `${node.address}:${node.sentinelPort}`,
            dataNodes: cluster.nodes.map(at),
            sentinels,
            replacedBefore: replacedBefore.map(at),
            timeoutSeconds: 40,
            waitForCloudInit: false,
            intervalSeconds: 1,
            sentinelConfPath: node.sentinelConf,
            redisConfPath: path.join(node.dir, "redis.conf"),
            operatorCredentialsPath: cluster.operatorFile,
        });
        const result = spawnSync("bash", ["-s", action], { input: script, encoding: "utf8", timeout: 120000 });
        return { status: result.status, lines: result.stdout.trim().split("\n"), stderr: result.stderr };
    }

    beforeAll(async () => {
        // 2 s: a Sentinel notices the replaced node's predecessor gone quickly, as the lab's do.
        cluster = await LocalCluster.start(3, 2000);
    }, 30000);
    afterAll(async () => {
        await cluster?.destroy();
    });

    test("a replica leaves with replica-priority 0 and nothing handed over", () => {
        const { status, lines } = handoff(cluster.nodes[2], "leave");
        expect(lines.slice(-2)).toEqual([`LEAVING ${at(cluster.nodes[2])} is a replica: nothing to hand over`, "RESULT ok"]);
        expect(status).toBe(0);
        expect(cli(cluster.nodes[2], ["CONFIG", "GET", "replica-priority"]).split("\n")[1]).toBe("0");
    }, 60000);

    test("a host created with the deployment, before most of its Sentinels exist, joins as it is", () => {
        // Two of the three Sentinels not created yet: addresses where nothing listens.
        const { status, lines } = handoff(cluster.nodes[1], "join", [], [`${cluster.nodes[1].address}:${cluster.nodes[1].sentinelPort}`, "127.0.0.1:9", "127.0.0.1:7"]);
        expect(lines.slice(-2)).toEqual(["NEW 1 of 3 Sentinels answer and none names a master that runs: the deployment is being created, nothing to join", "RESULT ok"]);
        expect(status).toBe(0);
    }, 60000);

    test("its successor joins: in sync with the master, listed by every Sentinel, its new Sentinel met by every other and its predecessor's forgotten", async () => {
        const [master, , replaced] = cluster.nodes;
        const before = cli(replaced, ["SENTINEL", "MYID"], true);
        expect(cli(master, ["SET", "kept-through-replacement", "yes"])).toBe("OK");
        await cluster.replace(replaced);
        const { status, lines, stderr } = handoff(replaced, "join");
        if (status !== 0) throw new Error(`${lines.join("\n")}\n${stderr}`);
        expect(lines).toContain(`SYNCED ${at(replaced)} with the master ${at(master)} in ${lines.find((l) => l.startsWith("SYNCED"))!.split(" in ")[1]}`);
        expect(lines).toContain(`KNOWN ${at(replaced)} to every Sentinel that answers (3 of 3)`);
        // Redis 7.0 drops the old run id when a new one announces itself at its address (a reset
        // would follow if it did not); the join waited until both others had met the new one.
        const after = cli(replaced, ["SENTINEL", "MYID"], true);
        expect(after).not.toBe(before);
        expect(lines).toContain(`MET every other Sentinel that answers knows this host's Sentinel ${after}`);
        for (const other of cluster.nodes.slice(0, 2)) {
            const ids = cli(other, ["SENTINEL", "SENTINELS", cluster.masterName], true).split("\n");
            expect(ids).toContain(after);
            expect(ids).not.toContain(before);
        }
        expect(lines.slice(-2)).toEqual(["JOINED local-2", "RESULT ok"]);
        for (const n of cluster.nodes) {
            expect(sentinelField(n, "num-other-sentinels")).toBe("2");
            expect(sentinelField(n, "num-slaves")).toBe("2");
        }
        expect(cli(replaced, ["GET", "kept-through-replacement"])).toBe("yes");
    }, 120000);

    test("the master leaves only after a planned switchover hands its role to a node already replaced in the roll, writes kept", () => {
        const [master, , replaced] = cluster.nodes;
        expect(cli(master, ["SET", "written-before-handover", "yes"])).toBe("OK");
        const { status, lines, stderr } = handoff(master, "leave", [replaced]);
        if (status !== 0) throw new Error(`${lines.join("\n")}\n${stderr}`);
        expect(lines).toContain(`HANDOVER ${at(master)} is the master: planned switchover before its VM goes`);
        // Not the other replica, which a roll would replace next and so hand over once more: the
        // Sentinel that runs it held the replaced node fit to promote, and did promote it.
        expect(lines.filter((l) => l.startsWith("PREFERENCE "))).toEqual([]);
        expect(lines).toContain(`SWITCHED ${at(master)} -> ${at(replaced)}`);
        expect(cluster.nodes.map(namedMaster)).toEqual([at(replaced), at(replaced), at(replaced)]);
        expect(cli(master, ["ROLE"]).split("\n")[0]).toBe("slave");
        expect(cli(master, ["CONFIG", "GET", "replica-priority"]).split("\n")[1]).toBe("0");
        expect(cli(replaced, ["CONFIG", "GET", "replica-priority"]).split("\n")[1]).toBe("100");
        expect(cli(replaced, ["GET", "written-before-handover"])).toBe("yes");
    }, 120000);
});
