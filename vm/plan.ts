/**
 * The pure half of the VM test: what each guest is given (NoCloud seed files, MAC addresses,
 * the QEMU command line) and how to read the facts a booted guest reports. No I/O here, so the
 * unit tests cover it without booting anything. The side effects live in vm/runtime.ts.
 */
import { parse, stringify } from "yaml";
import { SYSCTL_CONF, stagedExporterFiles } from "../cloud-init/cloudConfig";
import { DEBIAN_EXPORTER_UNIT, EXPORTERS, EXPORTER_USER, ExportedService } from "../cloud-init/exporters";

/** The guests' apt mirror: QEMU's user network forwards this address's port 80 to vm/mirror-httpd.py. */
export const MIRROR_ADDRESS = "10.0.2.100";
/** Each guest's address on its (restricted) user-network NIC, the one that only reaches the mirror. */
export const MIRROR_NIC_ADDRESS = "10.0.2.15";
export const MIRROR_NIC_PREFIX = 24;

export type Accel = "kvm" | "tcg";

export interface GuestSpec {
    /** 1-based; decides the MACs and the forwarded SSH port. */
    index: number;
    /** The host name of the plan (redis-ha-ovh-redis-0 ...). */
    name: string;
    privateAddress: string;
    prefixLength: number;
}

export interface GuestMacs { private: string; mirror: string }

/** Locally administered QEMU MACs: one per NIC and guest, unique within a test run. */
export function guestMacs(index: number): GuestMacs {
    if (!Number.isInteger(index) || index < 1 || index > 254) throw new Error(`guest index ${index} is outside 1..254`);
    const last = index.toString(16).padStart(2, "0");
    return { private: `52:54:00:a0:00:${last}`, mirror: `52:54:00:a0:01:${last}` };
}

/** Host-side port (inside the test's network namespace) forwarded to the guest's sshd. */
export function sshPortOf(index: number): number {
    return 2200 + index;
}

/**
 * NoCloud network-config (v2): the planned private address on the NIC of the guests' switch,
 * the mirror NIC on its own small network, and no gateway on either: no route out.
 * Matched by MAC (cloud-init 22.4's networkd renderer ignores `match: name` globs).
 */
export function renderNetworkConfig(guest: GuestSpec): string {
    const macs = guestMacs(guest.index);
    return stringify({
        version: 2,
        ethernets: {
            private: { match: { macaddress: macs.private }, addresses: [`${guest.privateAddress}/${guest.prefixLength}`] },
            mirror: { match: { macaddress: macs.mirror }, addresses: [`${MIRROR_NIC_ADDRESS}/${MIRROR_NIC_PREFIX}`] },
        },
    });
}

export function renderMetaData(guest: GuestSpec, instanceId: string): string {
    return stringify({ "instance-id": instanceId, "local-hostname": guest.name });
}

/**
 * KVM only when the CPU offers hardware virtualisation to this machine (vmx/svm) and /dev/kvm is
 * there; the paravirtual nested KVM of some CI machines has /dev/kvm without vmx and cannot boot
 * Debian's kernel. REDIS_HA_VM_ACCEL=kvm|tcg overrides.
 */
export function chooseAccel(input: { override?: string; kvmDevice: boolean; cpuFlags: string }): Accel {
    if (input.override) {
        if (input.override !== "kvm" && input.override !== "tcg") throw new Error(`REDIS_HA_VM_ACCEL=${input.override}: use kvm or tcg`);
        return input.override;
    }
    return input.kvmDevice && /\b(vmx|svm)\b/.test(input.cpuFlags) ? "kvm" : "tcg";
}

export interface QemuInput {
    accel: Accel;
    guest: GuestSpec;
    kernel: string;
    initrd: string;
    /** The guest's qcow2 overlay over the shared base image. */
    disk: string;
    /** The NoCloud seed (vfat, label CIDATA). */
    seed: string;
    switchSocket: string;
    /** The command QEMU runs per connection to the mirror address (stdin/stdout = the connection). */
    mirrorCommand: string;
    consoleLog: string;
    memoryMb: number;
    /** vCPUs; with TCG each is a host thread. */
    cpus: number;
}

/** QEMU's option syntax: a comma inside a value is written twice. */
export function qemuOptionValue(value: string): string {
    return value.replace(/,/g, ",,");
}

export function qemuArgv(input: QemuInput): string[] {
    const macs = guestMacs(input.guest.index);
    const v = qemuOptionValue;
    const userNet = [
        "user",
        "id=mirror",
        // No route to the host or beyond; only the rules below reach anything.
        "restrict=on",
        // No IPv6 either: slirp would advertise a default route.
        "ipv6=off",
        `net=10.0.2.0/${MIRROR_NIC_PREFIX}`,
        `guestfwd=tcp:${MIRROR_ADDRESS}:80-cmd:${v(input.mirrorCommand)}`,
        `hostfwd=tcp:127.0.0.1:${sshPortOf(input.guest.index)}-${MIRROR_NIC_ADDRESS}:22`,
    ].join(",");
    return [
        "qemu-system-x86_64",
        "-name", v(input.guest.name),
        "-accel", input.accel,
        ...(input.accel === "kvm" ? ["-cpu", "host"] : []),
        "-smp", String(input.cpus),
        "-m", String(input.memoryMb),
        "-nodefaults", "-no-user-config",
        "-display", "none",
        "-serial", `file:${v(input.consoleLog)}`,
        "-kernel", input.kernel,
        "-initrd", input.initrd,
        // mitigations=off: the guest kernel's speculation barriers cost much under emulation and protect nothing here.
        "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 ds=nocloud mitigations=off",
        // cache=unsafe: the guests' fsyncs stop at QEMU (a throwaway overlay), dpkg no longer waits on the host disk.
        "-drive", `file=${v(input.disk)},if=virtio,format=qcow2,cache=unsafe`,
        "-drive", `file=${v(input.seed)},if=virtio,format=raw,readonly=on`,
        "-netdev", `vde,id=private,sock=${v(input.switchSocket)}`,
        "-device", `virtio-net-pci,netdev=private,mac=${macs.private}`,
        "-netdev", userNet,
        "-device", `virtio-net-pci,netdev=mirror,mac=${macs.mirror}`,
    ];
}

// ---- Facts only a real boot shows -------------------------------------------------------------

export interface FileExpectation { path: string; owner: string; mode: string }

export interface FactExpectations {
    units: string[];
    sysctls: Record<string, string>;
    files: FileExpectation[];
    /** Paths that must not exist after the first boot (the staged, root-only configs). */
    absent: string[];
    /** Units that must be masked (Debian's exporter, which would serve every address with no password). */
    masked: string[];
    /** Exporters that must answer on the private address with their Redis or Sentinel up ("address:port"). */
    exporters: string[];
}

/** `key = value` lines of a sysctl.d file. */
export function parseSysctlConf(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^\s*([a-z0-9_.]+)\s*=\s*(\S+)\s*$/.exec(line);
        if (m) out[m[1]] = m[2];
    }
    return out;
}

/** "0640" -> "640": how stat prints it. */
function normalMode(mode: string): string {
    return mode.replace(/^0+(?=\d{3})/, "");
}

/**
 * What a guest booted with `userData` must show: every file the user-data writes and keeps has the
 * owner and mode it declares, the staged configs are gone and installed with owner redis, mode 640;
 * the services are active and enabled; the sysctls it ships are in force.
 */
export function expectationsFor(userData: string, installed: { stagingDir: string; configs: string[] }): FactExpectations {
    const document = parse(userData) as { write_files?: Array<{ path: string; owner?: string; permissions?: string }>; packages?: string[] };
    const files: FileExpectation[] = [];
    const absent: string[] = [];
    for (const file of document.write_files ?? []) {
        if (file.path.startsWith(installed.stagingDir + "/")) absent.push(file.path);
        else files.push({ path: file.path, owner: file.owner ?? "root:root", mode: normalMode(file.permissions ?? "0644") });
    }
    for (const config of installed.configs) files.push({ path: config, owner: "redis:redis", mode: "640" });
    const packages = document.packages ?? [];
    const units = [
        ...(packages.includes("redis-server") ? ["redis-server.service"] : []),
        ...(packages.includes("redis-sentinel") ? ["redis-sentinel.service"] : []),
        "redis-ha-thp.service",
    ];
    const exporters: string[] = [];
    for (const service of ["redis", "sentinel"] as ExportedService[]) {
        const unit = (document.write_files ?? []).find((f) => f.path === `${installed.stagingDir}/${stagedExporterFiles(service).unit}`) as { content?: string } | undefined;
        const listen = / -web\.listen-address (\S+)/.exec(unit?.content ?? "");
        if (!listen) continue;
        units.push(EXPORTERS[service].unitName);
        files.push({ path: EXPORTERS[service].passwordFile, owner: `root:${EXPORTER_USER}`, mode: "640" });
        exporters.push(listen[1]);
    }
    return { units, sysctls: parseSysctlConf(SYSCTL_CONF), files, absent, masked: exporters.length > 0 ? [DEBIAN_EXPORTER_UNIT] : [], exporters };
}

/** The bash script (run as root) that prints one line per fact; read by factFailures(). */
export function renderFactsScript(expect: FactExpectations): string {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    return [
        "#!/bin/bash",
        "set -u",
        `for unit in ${expect.units.map(q).join(" ")}; do echo "UNIT $unit $(systemctl is-active "$unit" 2>/dev/null) $(systemctl is-enabled "$unit" 2>/dev/null)"; done`,
        `for key in ${Object.keys(expect.sysctls).map(q).join(" ")}; do echo "SYSCTL $key $(sysctl -n "$key" 2>/dev/null)"; done`,
        'for f in enabled defrag; do echo "THP $f $(cat /sys/kernel/mm/transparent_hugepage/$f 2>/dev/null)"; done',
        `for path in ${expect.files.map((f) => q(f.path)).join(" ")}; do echo "FILE $path $(stat -c '%U:%G %a' "$path" 2>/dev/null || echo missing)"; done`,
        `for path in ${expect.absent.map(q).join(" ")}; do if [ -e "$path" ]; then echo "PRESENT $path"; fi; done`,
        `for unit in ${expect.masked.map(q).join(" ")}; do echo "MASKED $unit $(systemctl is-enabled "$unit" 2>/dev/null)"; done`,
        // The exporter's own view of its Redis or Sentinel, over the private address, with bash alone.
        `for listen in ${expect.exporters.map(q).join(" ")}; do echo "EXPORTER $listen $( (exec 3<>"/dev/tcp/\${listen%:*}/\${listen##*:}" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && grep -m1 '^redis_up ' <&3) 2>/dev/null || echo unreachable)"; done`,
        "echo \"CLOUDINIT $(cloud-init status 2>/dev/null | awk '$1 == \"status:\" { print $2 }')\"",
        "echo END",
        "",
    ].join("\n");
}

/** Every fact that is not as expected, one line each, naming the host and the fact. */
export function factFailures(host: string, stdout: string, expect: FactExpectations): string[] {
    const lines = stdout.split("\n").map((l) => l.trimEnd());
    if (!lines.includes("END")) return [`${host}: the facts script did not run to the end: ${stdout.trim().slice(-200) || "no output"}`];
    const failures: string[] = [];
    const find = (prefix: string) => lines.find((l) => l.startsWith(prefix + " "))?.slice(prefix.length + 1);
    for (const unit of expect.units) {
        const state = find(`UNIT ${unit}`) ?? "";
        if (state !== "active enabled") failures.push(`${host}: ${unit} is "${state}", want "active enabled"`);
    }
    for (const [key, value] of Object.entries(expect.sysctls)) {
        const got = find(`SYSCTL ${key}`) ?? "";
        if (got !== value) failures.push(`${host}: sysctl ${key} = ${got || "?"}, want ${value}`);
    }
    for (const knob of ["enabled", "defrag"]) {
        const got = find(`THP ${knob}`) ?? "";
        if (!got.includes("[never]")) failures.push(`${host}: transparent_hugepage/${knob} is "${got}", want [never]`);
    }
    for (const file of expect.files) {
        const got = find(`FILE ${file.path}`) ?? "";
        const want = `${file.owner} ${file.mode}`;
        if (got !== want) failures.push(`${host}: ${file.path} is ${got || "?"}, want ${want}`);
    }
    for (const path of expect.absent) {
        if (lines.includes(`PRESENT ${path}`)) failures.push(`${host}: ${path} still exists after the first boot`);
    }
    for (const unit of expect.masked) {
        const got = find(`MASKED ${unit}`) ?? "";
        if (got !== "masked") failures.push(`${host}: ${unit} is "${got}", want "masked"`);
    }
    for (const listen of expect.exporters) {
        const got = find(`EXPORTER ${listen}`) ?? "";
        if (got !== "redis_up 1") failures.push(`${host}: the exporter on ${listen} says "${got || "?"}", want "redis_up 1"`);
    }
    const cloudInit = find("CLOUDINIT") ?? "";
    if (cloudInit !== "done") failures.push(`${host}: cloud-init status is ${cloudInit || "unknown"}, want done`);
    return failures;
}
