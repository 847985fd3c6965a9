/**
 * cloud-init for real (issue 6): three Debian 12 VMs boot the user-data the program renders for the
 * OVH stack, install Redis from a local mirror the way a cloud image does, and must pass the same
 * post-deploy check the program runs (remote.Command), plus facts only a real boot shows.
 * `npm run test:vm`; needs root. Read docs/vm.md.
 */
import * as fs from "fs";
import * as path from "path";
import { readStackConfig } from "../../scripts/lib/mockCloud";
import { CheckReport, parseCheckOutput } from "../../components/core/checkOutput";
import { generatePassword } from "../../components/core/tokens";
import { SENTINEL_ADMIN_USER } from "../../components/core/aclUsers";
import { DEBIAN_PATHS } from "../../cloud-init/paths";
import { STAGING_DIR } from "../../cloud-init/cloudConfig";
import { commandExists, sleep } from "../../components/platforms/lab/shell";
import { VmDeployment, vmStackConfig } from "../../vm/deployment";
import { renderVmDeployment as render } from "../support/vmDeployment";
import { ensureImage, VM_STATE_DIR } from "../../vm/image";
import { chooseAccel, expectationsFor, factFailures, GuestSpec, renderFactsScript } from "../../vm/plan";
import { HeavyLock, seedFor, sweepStale, VM_PREFIX, VmRun } from "../../vm/runtime";

const LOCK_FILE = process.env.REDIS_HA_HEAVY_LOCK ?? "/tmp/redis-ha-heavy.lock";
const LOCK_WAIT_MS = Number(process.env.REDIS_HA_VM_LOCK_WAIT_SECONDS ?? 1800) * 1000;
const RUN_ROOT = path.join(VM_STATE_DIR, "run");
const PRIVATE_CIDR = "192.168.77.0/24";
const REQUIRED_COMMANDS = ["qemu-system-x86_64", "qemu-img", "vde_switch", "mkfs.vfat", "mcopy", "debootstrap", "apt-ftparchive", "ssh", "ssh-keygen", "flock", "ip"];

function whySkip(): string | undefined {
    if (process.getuid?.() !== 0) return "not running as root (namespaces, debootstrap and QEMU's network need it)";
    const missing = REQUIRED_COMMANDS.filter((c) => !commandExists(c));
    if (missing.length) return `missing ${missing.join(", ")}: run npm run setup`;
    return undefined;
}
const skip = whySkip();
if (skip) console.warn(`\n*** VM TEST SKIPPED: ${skip} ***\n`);
const describeVm = skip ? describe.skip : describe;

const log = (line: string) => process.stderr.write(`[vm ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

describeVm("cloud-init for real: the rendered user-data in Debian 12 VMs", () => {
    const timings: Array<[string, number]> = [];
    const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
        const started = Date.now();
        const result = await f();
        timings.push([what, (Date.now() - started) / 1000]);
        log(`${what}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
        return result;
    };
    let vm: VmRun | undefined;
    let lock: HeavyLock | undefined;
    let deployment: VmDeployment;
    let specs: GuestSpec[];

    const hostSpec = (name: string) => specs.find((s) => s.name === name)!;
    const userOf = (d: VmDeployment) => d.hosts[0].check!.user;

    /** What went wrong inside a guest, for the failure message. */
    async function diagnose(name: string): Promise<string> {
        if (!vm) return "";
        const out = await vm.ssh(name, userOf(deployment), "sudo -n tail -n 25 /var/log/cloud-init-output.log; sudo -n journalctl -b -u redis-server -u redis-sentinel --no-pager -n 15", undefined, 20000);
        return `--- ${name}: cloud-init-output.log and units ---\n${out.stdout}${out.stderr}\n--- ${name}: console ---\n${vm.consoleTail(name, 15)}`;
    }

    /** Runs a host's check exactly as remote.Command does: login user, command, script on stdin. */
    async function runCheck(d: VmDeployment, name: string, timeoutMs: number): Promise<{ status: number | null; report: CheckReport; stderr: string }> {
        const host = d.hosts.find((h) => h.plan.name === name)!;
        const result = await vm!.ssh(name, host.check!.user, host.check!.command, host.check!.script, timeoutMs);
        try {
            return { status: result.status, report: parseCheckOutput(result.stdout), stderr: result.stderr };
        } catch (e) {
            throw new Error(`${name}: ${e instanceof Error ? e.message : e}; ssh said ${result.stderr.trim()}\n${await diagnose(name)}`);
        }
    }

    async function cloudInitDone(name: string): Promise<void> {
        const result = await vm!.ssh(name, userOf(deployment), "sudo -n cloud-init status --wait >/dev/null 2>&1; sudo -n cloud-init status --long", undefined, 15 * 60 * 1000);
        if (!/^status: done$/m.test(result.stdout)) throw new Error(`${name}: cloud-init did not finish cleanly:\n${result.stdout}${result.stderr}\n${await diagnose(name)}`);
    }

    async function factsOf(name: string): Promise<string[]> {
        const host = deployment.hosts.find((h) => h.plan.name === name)!;
        const expectations = expectationsFor(host.userData, { stagingDir: STAGING_DIR, configs: [DEBIAN_PATHS.redisConf, DEBIAN_PATHS.sentinelConf] });
        const result = await vm!.ssh(name, userOf(deployment), "sudo -n bash -s", renderFactsScript(expectations), 60000);
        return factFailures(name, result.stdout, expectations);
    }

    beforeAll(async () => {
        sweepStale(RUN_ROOT, log);
        const image = await timed("image (cache hit or build)", async () => ensureImage(log));
        log(`image ${image.built ? "built" : "cached"}: ${image.paths.dir}`);
        const accel = chooseAccel({
            override: process.env.REDIS_HA_VM_ACCEL,
            kvmDevice: fs.existsSync("/dev/kvm"),
            cpuFlags: fs.readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags")) ?? "",
        });
        const namespace = `${VM_PREFIX}${process.pid}`;
        vm = new VmRun({ image: image.paths, accel, dir: path.join(RUN_ROOT, namespace), namespace, log });
        lock = await timed("waiting for the heavy-job lock", () => HeavyLock.acquire(LOCK_FILE, LOCK_WAIT_MS, log));
        const sshPublicKey = await vm.up();
        const overrides = { sshPublicKey, redisPassword: generatePassword(), sentinelPassword: generatePassword(), privateNetworkCidr: PRIVATE_CIDR };
        deployment = await render(vmStackConfig(readStackConfig("ovh"), overrides));
        specs = deployment.hosts.map((h, i) => ({ index: i + 1, name: h.plan.name, privateAddress: h.plan.privateAddress!, prefixLength: deployment.prefixLength }));
        log(`accel ${accel}; hosts ${specs.map((s) => `${s.name}=${s.privateAddress}`).join(", ")}`);
    }, LOCK_WAIT_MS + 25 * 60 * 1000);

    afterAll(async () => {
        try {
            await vm?.down();
        } finally {
            await lock?.release();
            if (timings.length) log(`timings:\n${timings.map(([what, s]) => `  ${what}: ${s.toFixed(0)} s`).join("\n")}`);
        }
    }, 120000);

    it("renders the cloud stack for VMs: three colocated nodes on the planned addresses, a check per node", () => {
        expect(deployment.hosts.map((h) => [h.plan.redisRole, h.plan.sentinel, h.plan.privateAddress])).toEqual([
            ["master", true, "192.168.77.11"],
            ["replica", true, "192.168.77.12"],
            ["replica", true, "192.168.77.13"],
        ]);
        expect(deployment.hosts.every((h) => h.check && h.userData.startsWith("#cloud-config\n"))).toBe(true);
    });

    it("boots the rendered user-data to a healthy quorum: the program's check passes on every node", async () => {
        await timed("3 VMs: boot to cloud-init done", async () => {
            for (const host of deployment.hosts) {
                await vm!.boot(hostSpec(host.plan.name), seedFor(hostSpec(host.plan.name), host.userData, `${VM_PREFIX}${process.pid}-${host.plan.name}`));
            }
            await Promise.all(specs.map((s) => vm!.waitForSsh(s.name, userOf(deployment), 10 * 60 * 1000)));
            await Promise.all(specs.map((s) => cloudInitDone(s.name)));
        });
        await timed("the secret deliveries", async () => {
            // What `pulumi up` runs right after creating each host: the user-data carried no password,
            // so first boot installed nothing until this puts them in and runs it again.
            for (const host of deployment.hosts) {
                expect(host.delivery).toBeDefined();
                const delivery = await vm!.ssh(host.plan.name, host.delivery!.user, host.delivery!.command, host.delivery!.script, 10 * 60 * 1000);
                if (!/^DELIVERED /m.test(delivery.stdout) || delivery.status !== 0) throw new Error(`the secret delivery on ${host.plan.name} failed:\n${delivery.stdout}${delivery.stderr}\n${await diagnose(host.plan.name)}`);
                expect(delivery.stdout).toContain(`redis-ha: ${host.plan.name} installed`);
            }
        });
        await timed("the settings rollout", async () => {
            // What `pulumi up` runs before the checks. First boot logged every Sentinel in as its own
            // user (default is off), so it finds them there.
            const rollout = await vm!.ssh(deployment.rollout.host, deployment.rollout.user, deployment.rollout.command, deployment.rollout.script, 15 * 60 * 1000);
            if (!/^RESULT ok /m.test(rollout.stdout)) throw new Error(`the settings rollout on ${deployment.rollout.host} failed:\n${rollout.stdout}${rollout.stderr}\n${await diagnose(deployment.rollout.host)}`);
            expect(rollout.stdout.split("\n").filter((l) => /^SAME sentinel \S+ logs in as sentinel$/.test(l))).toHaveLength(3);
        });
        for (const host of deployment.hosts) {
            const check = await runCheck(deployment, host.plan.name, 5 * 60 * 1000);
            expect({ host: host.plan.name, failures: check.report.failures }).toEqual({ host: host.plan.name, failures: [] });
            expect(check.status).toBe(0);
            expect(check.report.agreedMaster).toBe(`${deployment.masterAddress}:${deployment.config.redisPort}`);
            expect(check.report.replicas.filter((r) => r.state === "online")).toHaveLength(2);
            // And the host itself was judged (docs/security.md): every kind of fact, on a real boot's files.
            expect(new Set(check.report.hardened.map((h) => h.split(" ")[0]))).toEqual(new Set(["build", "listen", "protected-mode", "acl", "exporter-login", "secrets"]));
            // Under real systemd the exporter was started with the drop-in's login, not default's.
            expect(check.report.hardened.find((h) => h.startsWith("exporter-login "))).toBe("exporter-login redis user=exporter");
        }
    }, 25 * 60 * 1000);

    it("shows what only a real boot can: units active and enabled, sysctls and THP in force, owners and modes, cloud-init done, the exact user-data", async () => {
        for (const host of deployment.hosts) {
            expect(await factsOf(host.plan.name)).toEqual([]);
            const user = userOf(deployment);
            const seen = await vm!.ssh(host.plan.name, user, "sudo -n cat /var/lib/cloud/instance/user-data.txt", undefined, 30000);
            expect(seen.stdout === host.userData).toBe(true);
            // No route out: no default route, IPv4 or IPv6.
            const routes = await vm!.ssh(host.plan.name, user, "ip route; ip -6 route", undefined, 30000);
            expect(routes.status).toBe(0);
            expect(routes.stdout).not.toMatch(/^default/m);
        }
    }, 5 * 60 * 1000);

    it("after a failover, the boot guard makes the rebooted former master start as a replica", async () => {
        const [oldMaster, replica1] = deployment.hosts;
        const { sentinelPort, redisPort, masterName } = deployment.config;
        const { sentinelPassword } = deployment.secrets;
        const user = userOf(deployment);
        // A test password of a throwaway guest: passed inline to redis-cli inside the guest.
        // As an operator: the Sentinels' admin user, with the stack's Sentinel password.
        const sentinelCommand = (via: string, args: string) => `REDISCLI_AUTH='${sentinelPassword}' redis-cli --no-auth-warning --user ${SENTINEL_ADMIN_USER} -h ${hostSpec(via).privateAddress} -p ${sentinelPort} --raw ${args}`;
        const failover = await vm!.ssh(replica1.plan.name, user, "bash -s", sentinelCommand(replica1.plan.name, `SENTINEL FAILOVER ${masterName}`), 20000);
        expect(failover.stdout.trim()).toBe("OK");
        let newMaster = "";
        await timed("failover: Sentinels name a new master", async () => {
            for (let i = 0; i < 60; i++) {
                const out = await vm!.ssh(replica1.plan.name, user, "bash -s", sentinelCommand(replica1.plan.name, `SENTINEL get-master-addr-by-name ${masterName}`) + " | paste -sd: -", 20000);
                newMaster = out.stdout.trim();
                if (newMaster && newMaster !== `${oldMaster.plan.privateAddress}:${redisPort}`) return;
                await sleep(2000);
            }
            throw new Error(`no new master after SENTINEL FAILOVER (still ${newMaster})`);
        });
        // Wait for the old master to be reconfigured and the quorum to be healthy again, before the reboot.
        const settled = await runCheck(deployment, replica1.plan.name, 5 * 60 * 1000);
        expect(settled.report.failures).toEqual([]);

        const bootId = async () => (await vm!.ssh(oldMaster.plan.name, user, "cat /proc/sys/kernel/random/boot_id", undefined, 20000)).stdout.trim();
        const before = await bootId();
        expect(before).toMatch(/^[0-9a-f-]{36}$/);
        await timed("reboot of the former master: back to healthy", async () => {
            await vm!.ssh(oldMaster.plan.name, user, "sudo -n systemctl reboot", undefined, 20000);
            let after = before;
            for (let i = 0; i < 100 && (after === before || after === ""); i++) {
                await sleep(3000);
                after = await bootId();
            }
            expect(after).toMatch(/^[0-9a-f-]{36}$/);
            expect(after).not.toBe(before);
            const check = await runCheck(deployment, oldMaster.plan.name, 10 * 60 * 1000);
            expect(check.report.failures).toEqual([]);
            expect(check.report.agreedMaster).toBe(newMaster);
        });
        const journal = await vm!.ssh(oldMaster.plan.name, user, "sudo -n journalctl -b -u redis-server --no-pager -o cat", undefined, 30000);
        expect(journal.stdout).toContain(`redis-ha boot guard: the Sentinels name ${newMaster} as master: starting as its replica`);
        // Units, sysctls and THP come back after a reboot, not only after the first boot.
        expect(await factsOf(oldMaster.plan.name)).toEqual([]);
    }, 25 * 60 * 1000);
});
