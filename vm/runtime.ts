/**
 * Boots guests for the VM test: one network namespace with only loopback (nothing a guest sends can
 * leave it), one VDE switch for the guests' private network, and per guest a qcow2 overlay of the
 * cached image, a NoCloud seed and a QEMU process. Every process is our child and is stopped by its
 * pid; the namespace and the run directory carry the test's prefix; down() removes them all.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { run, runAsync, RunResult, sleep } from "../components/platforms/lab/shell";
import type { ImagePaths } from "./image";
import { MIRROR_HTTPD } from "./image";
import { Accel, GuestSpec, qemuArgv, renderMetaData, renderNetworkConfig, sshPortOf } from "./plan";

/** Every namespace and run directory of the VM test starts with this, then the owning pid. */
export const VM_PREFIX = "rhavm-";

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

/** Waits for a child to exit, at most `ms`; true if it did. */
function exited(child: ChildProcess, ms: number): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
        });
    });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    if (!(await exited(child, 5000))) {
        child.kill("SIGKILL");
        await exited(child, 5000);
    }
}

/**
 * Removes namespaces and run directories of VM tests whose process is gone (a test killed with
 * SIGKILL cannot clean up). Only names with our prefix and a dead owner pid are touched; processes
 * still inside such a namespace (its QEMUs) are stopped by the pids the kernel lists for it.
 */
export function sweepStale(runRoot: string, log: (line: string) => void = () => undefined): void {
    const namespaces = run(["ip", "netns", "list"], { allowFailure: true }).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    for (const ns of namespaces) {
        const m = new RegExp(`^${VM_PREFIX}(\\d+)$`).exec(ns);
        if (!m || alive(Number(m[1]))) continue;
        const pids = run(["ip", "netns", "pids", ns], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean).map(Number);
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                /* already gone */
            }
        }
        run(["ip", "netns", "del", ns], { allowFailure: true });
        log(`removed stale namespace ${ns} (${pids.length} processes)`);
    }
    if (!fs.existsSync(runRoot)) return;
    for (const entry of fs.readdirSync(runRoot)) {
        const m = new RegExp(`^${VM_PREFIX}(\\d+)$`).exec(entry);
        if (m && !alive(Number(m[1]))) {
            fs.rmSync(path.join(runRoot, entry), { recursive: true, force: true });
            log(`removed stale run directory ${entry}`);
        }
    }
}

/** Holds /tmp/redis-ha-heavy.lock (machine-wide: CPU-heavy jobs take turns) until release(). */
export class HeavyLock {
    private constructor(private child: ChildProcess) {}

    static async acquire(file: string, timeoutMs: number, log: (line: string) => void): Promise<HeavyLock> {
        // flock holds the lock while `cat` waits on our stdin: if this process dies, the lock goes with it.
        const child = spawn("flock", [file, "sh", "-c", "echo locked; exec cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] });
        const started = Date.now();
        const waiting = setInterval(() => log(`waiting for ${file} (${Math.round((Date.now() - started) / 1000)} s)`), 60000);
        try {
            const ok = await new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(false), timeoutMs);
                child.stdout!.on("data", (d) => {
                    if (String(d).includes("locked")) {
                        clearTimeout(timer);
                        resolve(true);
                    }
                });
                child.once("exit", () => resolve(false));
            });
            if (!ok) {
                await stopChild(child);
                throw new Error(`could not take ${file} within ${timeoutMs / 1000} s`);
            }
        } finally {
            clearInterval(waiting);
        }
        return new HeavyLock(child);
    }

    async release(): Promise<void> {
        this.child.stdin?.end();
        if (!(await exited(this.child, 5000))) await stopChild(this.child);
    }
}

export interface SeedFiles { userData: string; metaData: string; networkConfig: string; vendorData?: string }

interface Guest { spec: GuestSpec; qemu: ChildProcess; dir: string; console: string }

export interface VmRunOptions {
    image: ImagePaths;
    accel: Accel;
    /** The run's directory (overlays, seeds, logs, keys); removed by down(). */
    dir: string;
    namespace: string;
    memoryMb?: number;
    log?: (line: string) => void;
}

export class VmRun {
    private switchProcess?: ChildProcess;
    private guests = new Map<string, Guest>();
    readonly keyFile: string;
    readonly switchSocket: string;
    private readonly log: (line: string) => void;

    constructor(readonly options: VmRunOptions) {
        this.keyFile = path.join(options.dir, "id_ed25519");
        this.switchSocket = path.join(options.dir, "switch");
        this.log = options.log ?? (() => undefined);
    }

    /** Namespace (loopback only), the guests' switch, and the SSH key the user-data will carry. */
    async up(): Promise<string> {
        fs.mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `${path.basename(this.options.dir)}@redis-ha-vm-test`, "-f", this.keyFile]);
        run(["ip", "netns", "add", this.options.namespace]);
        run(["ip", "-n", this.options.namespace, "link", "set", "lo", "up"]);
        this.startWatchdog();
        // Our child (not -d): stopped by its pid in down(). Its console reads stdin, kept open here.
        this.switchProcess = spawn("ip", ["netns", "exec", this.options.namespace, "vde_switch", "--sock", this.switchSocket, "--mode", "600"], { stdio: ["pipe", "ignore", "ignore"] });
        for (let i = 0; i < 50 && !fs.existsSync(path.join(this.switchSocket, "ctl")); i++) await sleep(100);
        if (!fs.existsSync(path.join(this.switchSocket, "ctl"))) throw new Error(`vde_switch did not create ${this.switchSocket}/ctl`);
        return fs.readFileSync(this.keyFile + ".pub", "utf8").trim();
    }

    /**
     * If this process dies without down() (CI's `timeout` sends SIGTERM to the whole process group,
     * and jest's sandbox cannot catch it), a detached shell outside that group removes what this run
     * made: every process inside our namespace (QEMU, the switch), the namespace, the run directory.
     * After a normal down() it finds nothing left and exits.
     */
    private startWatchdog(): void {
        const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
        const ns = q(this.options.namespace);
        const script = [
            `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
            `for pid in $(ip netns pids ${ns} 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done`,
            `ip netns del ${ns} 2>/dev/null`,
            `rm -rf ${q(this.options.dir)}`,
        ].join("\n");
        spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
    }

    /** A fresh guest (new overlay, new seed): a first boot, as a cloud creates a VM. */
    async boot(spec: GuestSpec, seed: SeedFiles, options: { cpus?: number } = {}): Promise<void> {
        if (this.guests.has(spec.name)) throw new Error(`${spec.name} is running; stop it first`);
        const dir = path.join(this.options.dir, spec.name);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        const disk = path.join(dir, "disk.qcow2");
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", this.options.image.base, "-F", "raw", disk]);
        const seedDir = path.join(dir, "seed");
        fs.mkdirSync(seedDir);
        const files: Record<string, string | undefined> = {
            "user-data": seed.userData,
            "meta-data": seed.metaData,
            "network-config": seed.networkConfig,
            "vendor-data": seed.vendorData,
        };
        const names = Object.entries(files).filter(([, c]) => c !== undefined).map(([name, content]) => {
            fs.writeFileSync(path.join(seedDir, name), content!, { mode: 0o600 });
            return path.join(seedDir, name);
        });
        const seedImage = path.join(dir, "seed.img");
        run(["mkfs.vfat", "-n", "CIDATA", "-C", seedImage, "1024"]);
        run(["mcopy", "-i", seedImage, ...names, "::"]);
        const consoleLog = path.join(dir, "console.log");
        const argv = qemuArgv({
            accel: this.options.accel,
            guest: spec,
            kernel: this.options.image.kernel,
            initrd: this.options.image.initrd,
            disk,
            seed: seedImage,
            switchSocket: this.switchSocket,
            mirrorCommand: `/usr/bin/python3 ${MIRROR_HTTPD} ${this.options.image.repo} ${path.join(dir, "mirror.log")}`,
            consoleLog,
            memoryMb: this.options.memoryMb ?? 768,
            cpus: options.cpus ?? 1,
        });
        // `ip netns exec` execs QEMU: the child's pid is QEMU's.
        const qemu = spawn("ip", ["netns", "exec", this.options.namespace, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        qemu.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
        qemu.once("exit", (code, signal) => {
            if (this.guests.get(spec.name)?.qemu === qemu) this.log(`${spec.name}: qemu exited (${code ?? signal}) ${stderr.trim()}`);
        });
        this.guests.set(spec.name, { spec, qemu, dir, console: consoleLog });
        this.log(`${spec.name}: booting ${spec.privateAddress} (${this.options.accel}, ssh port ${sshPortOf(spec.index)})`);
    }

    /** Powers a guest off (no shutdown: as a cloud deletes a VM) and forgets it. */
    async destroy(name: string): Promise<void> {
        const guest = this.guests.get(name);
        if (!guest) return;
        this.guests.delete(name);
        await stopChild(guest.qemu);
    }

    running(name: string): boolean {
        const guest = this.guests.get(name);
        return !!guest && guest.qemu.exitCode === null && guest.qemu.signalCode === null;
    }

    consoleTail(name: string, lines = 30): string {
        const guest = this.guests.get(name);
        if (!guest || !fs.existsSync(guest.console)) return "(no console log)";
        return fs.readFileSync(guest.console, "utf8").split("\n").slice(-lines).join("\n");
    }

    private guest(name: string): Guest {
        const guest = this.guests.get(name);
        if (!guest) throw new Error(`no guest ${name}`);
        return guest;
    }

    /** SSH into a guest as `user` with the test's key, through the guest's forwarded port. */
    ssh(name: string, user: string, command: string, input?: string, timeoutMs = 30000): Promise<RunResult> {
        const port = sshPortOf(this.guest(name).spec.index);
        return runAsync([
            "ip", "netns", "exec", this.options.namespace,
            "ssh", "-i", this.keyFile, "-p", String(port),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
            `${user}@127.0.0.1`, command,
        ], { input, timeoutMs });
    }

    /** Polls until `user` can log in and run `true`, or the deadline; returns the seconds it took. */
    async waitForSsh(name: string, user: string, timeoutMs: number): Promise<number> {
        const started = Date.now();
        let last: RunResult | undefined;
        while (Date.now() - started < timeoutMs) {
            if (!this.running(name)) throw new Error(`${name}: qemu is not running\n${this.consoleTail(name)}`);
            last = await this.ssh(name, user, "true", undefined, 20000);
            if (last.status === 0) return (Date.now() - started) / 1000;
            await sleep(3000);
        }
        throw new Error(`${name}: no SSH login as ${user} within ${timeoutMs / 1000} s (last: ${(last?.stderr ?? "").trim()})\nconsole:\n${this.consoleTail(name)}`);
    }

    /** Stops every guest and the switch, deletes the namespace and the run directory. Safe twice. */
    async down(): Promise<void> {
        for (const name of [...this.guests.keys()]) await this.destroy(name);
        if (this.switchProcess) {
            this.switchProcess.stdin?.end();
            await stopChild(this.switchProcess);
            this.switchProcess = undefined;
        }
        run(["ip", "netns", "del", this.options.namespace], { allowFailure: true });
        fs.rmSync(this.options.dir, { recursive: true, force: true });
    }
}

/** The seed for one guest of the deployment. */
export function seedFor(spec: GuestSpec, userData: string, instanceId: string): SeedFiles {
    return { userData, metaData: renderMetaData(spec, instanceId), networkConfig: renderNetworkConfig(spec) };
}
