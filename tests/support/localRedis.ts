/**
 * Real redis-server and redis-sentinel processes on loopback, started from the project's own
 * rendered configs. Each node gets its own 127.0.x.y address and its own ports; everything lives
 * in a temporary directory and is stopped by PID.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { RedisPaths } from "../../cloud-init/paths";
import { renderRedisConf } from "../../cloud-init/redisConf";
import { renderSentinelConf } from "../../cloud-init/sentinelConf";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "./fixtures";
import { SENTINEL_USER, appPassword, exporterPassword, replicationPassword, sentinelUserPassword } from "../../components/core/aclUsers";
import { renderOperatorCredentials } from "../../cloud-init/operatorCredentials";

export const redisAvailable = spawnSync("redis-server", ["--version"]).status === 0 && spawnSync("redis-sentinel", ["--version"]).status === 0;

export interface LocalNode {
    index: number;
    address: string;
    redisPort: number;
    sentinelPort: number;
    dir: string;
    sentinelConf: string;
    redis?: ChildProcess;
    sentinel?: ChildProcess;
}

async function portFree(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(port, host, () => server.close(() => resolve(true)));
    });
}

async function waitForPort(host: string, port: number, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, host);
            socket.once("connect", () => { socket.destroy(); resolve(true); });
            socket.once("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nothing listens on ${host}:${port} after ${deadlineMs} ms`);
}

export interface LocalClusterOptions {
    /** Default true: default takes the stack's password (see LocalCluster.legacyDefaultUser). */
    legacyDefaultUser?: boolean;
}

export class LocalCluster {
    readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-local-"));
    /** The operator credentials a host of this cluster would have (root only), for the scripts that read them. */
    readonly operatorFile = path.join(this.root, "operator.conf");
    readonly nodes: LocalNode[] = [];
    readonly masterName = "redis-ha";

    /**
     * Whether default takes the stack's password, as on a deployment made before default went off (or
     * with legacyDefaultUser): what most script tests start from, since the scripts must handle both.
     * The tests of the default-off state start with it false, as a deployment made today is.
     */
    readonly legacyDefaultUser: boolean;

    constructor(options: LocalClusterOptions = {}) {
        this.legacyDefaultUser = options.legacyDefaultUser ?? true;
        fs.writeFileSync(this.operatorFile, renderOperatorCredentials({ redisPassword: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD }), { mode: 0o600 });
    }

    /**
     * Starts a cluster on a random free port range. A port can be taken between the look and the
     * bind (by anything on this machine); then the whole cluster starts again elsewhere (3 tries).
     */
    static async start(size = 3, downAfterMilliseconds = 5000, options: LocalClusterOptions = {}): Promise<LocalCluster> {
        let lastError: unknown;
        for (let attempt = 0; attempt < 3; attempt++) {
            const cluster = new LocalCluster(options);
            try {
                await cluster.boot(size, downAfterMilliseconds);
                return cluster;
            } catch (e) {
                lastError = e;
                await cluster.destroy();
            }
        }
        throw lastError;
    }

    private downAfterMilliseconds = 5000;

    private async boot(size: number, downAfterMilliseconds: number): Promise<void> {
        this.downAfterMilliseconds = downAfterMilliseconds;
        // Random base so parallel runs on one machine do not collide; verified free before use.
        let base = 0;
        for (let attempt = 0; attempt < 20 && !base; attempt++) {
            const candidate = 20000 + Math.floor(Math.random() * 20000);
            const checks = await Promise.all(Array.from({ length: size }, (_, i) => Promise.all([portFree("127.0.0.1", candidate + i), portFree("127.0.0.1", candidate + 100 + i)])));
            if (checks.every(([a, b]) => a && b)) base = candidate;
        }
        if (!base) throw new Error("no free port range found on loopback");
        const third = 1 + Math.floor(Math.random() * 200);
        for (let i = 0; i < size; i++) {
            const dir = path.join(this.root, `node-${i}`);
            fs.mkdirSync(dir);
            this.nodes.push({ index: i, address: `127.0.${third}.${10 + i}`, redisPort: base + i, sentinelPort: base + 100 + i, dir, sentinelConf: path.join(dir, "sentinel.conf") });
        }
        for (const node of this.nodes) this.writeFiles(node, this.nodes[0], downAfterMilliseconds);
        for (const node of this.nodes) await this.startRedis(node);
        for (const node of this.nodes) await this.startSentinel(node);
    }

    /** Renders a node's redis.conf and sentinel.conf as first boot would, `master` being the plan's master. */
    writeFiles(node: LocalNode, master: LocalNode, downAfterMilliseconds = this.downAfterMilliseconds): void {
        const paths: RedisPaths = {
            redisConf: path.join(node.dir, "redis.conf"),
            sentinelConf: node.sentinelConf,
            dataDir: node.dir,
            sentinelDir: node.dir,
            redisLog: path.join(node.dir, "redis.log"),
            sentinelLog: path.join(node.dir, "sentinel.log"),
            redisPid: path.join(node.dir, "redis.pid"),
            sentinelPid: path.join(node.dir, "sentinel.pid"),
            supervised: "no",
        };
        fs.writeFileSync(paths.redisConf, renderRedisConf({
            hostName: `local-${node.index}`, zone: "loopback", bindAddress: node.address, port: node.redisPort,
            role: node === master ? "master" : "replica", masterAddress: node === master ? undefined : master.address, masterPort: master.redisPort,
            password: REDIS_PASSWORD, legacyDefaultUser: this.legacyDefaultUser, app: { password: appPassword(REDIS_PASSWORD), scripting: true }, sentinelUserPassword: sentinelUserPassword(REDIS_PASSWORD), replicationPassword: replicationPassword(REDIS_PASSWORD), exporterPassword: exporterPassword(REDIS_PASSWORD), persistence: "aof+rdb", maxmemory: "64mb", maxmemoryPolicy: "noeviction",
            minReplicasToWrite: 1, minReplicasMaxLag: 10, replDisklessSyncDelay: 0, paths,
        }));
        fs.writeFileSync(node.sentinelConf, renderSentinelConf({
            hostName: `local-${node.index}`, zone: "loopback", bindAddress: node.address, port: node.sentinelPort,
            masterName: this.masterName, masterAddress: master.address, redisPort: master.redisPort, quorum: 2,
            // As a deployed cluster is once its settings rollout ran: the Sentinels log in as their own user.
            redisUser: SENTINEL_USER, redisPassword: sentinelUserPassword(REDIS_PASSWORD), sentinelPassword: SENTINEL_PASSWORD,
            downAfterMilliseconds, failoverTimeoutMilliseconds: 60000, parallelSyncs: 1, paths,
        }));
    }

    /**
     * What a replaced VM is: the node's processes gone, its data and the files Sentinel and CONFIG
     * REWRITE wrote gone, its configs rendered afresh (a new Sentinel id), then started again at the
     * same address. As on a VM, its boot guard is not run here: it starts as its rendered config says.
     */
    async replace(node: LocalNode): Promise<void> {
        await this.stop(node.sentinel);
        await this.stop(node.redis);
        for (const entry of fs.readdirSync(node.dir)) fs.rmSync(path.join(node.dir, entry), { recursive: true, force: true });
        this.writeFiles(node, this.nodes[0]);
        await this.startRedis(node);
        await this.startSentinel(node);
    }

    async startRedis(node: LocalNode): Promise<void> {
        node.redis = spawn("redis-server", [path.join(node.dir, "redis.conf")], { stdio: "ignore" });
        await waitForPort(node.address, node.redisPort, 5000);
    }

    async startSentinel(node: LocalNode): Promise<void> {
        node.sentinel = spawn("redis-sentinel", [node.sentinelConf], { stdio: "ignore" });
        await waitForPort(node.address, node.sentinelPort, 5000);
    }

    async stop(process_: ChildProcess | undefined): Promise<void> {
        if (!process_ || process_.exitCode !== null || process_.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => process_.once("exit", () => resolve()));
        process_.kill("SIGKILL");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
    }

    sentinelEndpoints(): string[] {
        return this.nodes.map((n) => `${n.address}:${n.sentinelPort}`);
    }

    async destroy(): Promise<void> {
        for (const node of this.nodes) {
            await this.stop(node.sentinel);
            await this.stop(node.redis);
        }
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}
