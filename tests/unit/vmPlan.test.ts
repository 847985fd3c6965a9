import { parse } from "yaml";
import { renderCloudConfig, STAGING_DIR } from "../../cloud-init/cloudConfig";
import { renderExporterPasswordFile, renderExporterUnit } from "../../cloud-init/exporters";
import { DEBIAN_PATHS } from "../../cloud-init/paths";
import { renderOperatorCredentials } from "../../cloud-init/operatorCredentials";
import {
    chooseAccel,
    expectationsFor,
    factFailures,
    GuestSpec,
    guestMacs,
    MIRROR_ADDRESS,
    qemuArgv,
    renderFactsScript,
    renderMetaData,
    renderNetworkConfig,
} from "../../vm/plan";
import { imageKey } from "../../vm/image";

const guest: GuestSpec = { index: 2, name: "redis-ha-ovh-redis-1", privateAddress: "192.168.77.12", prefixLength: 24 };

describe("guest seed", () => {
    it("gives every guest and NIC its own MAC, and refuses indexes QEMU MACs cannot carry", () => {
        const all = [1, 2, 3].flatMap((i) => Object.values(guestMacs(i)));
        expect(new Set(all).size).toBe(6);
        expect(guestMacs(10).private).toBe("52:54:00:a0:00:0a");
        expect(() => guestMacs(0)).toThrow(/outside/);
        expect(() => guestMacs(255)).toThrow(/outside/);
    });

    it("puts the planned address on the private NIC by MAC, and no gateway anywhere (no route out)", () => {
        const config = parse(renderNetworkConfig(guest));
        expect(config.version).toBe(2);
        expect(config.ethernets.private).toEqual({ match: { macaddress: guestMacs(2).private }, addresses: ["192.168.77.12/24"] });
        expect(config.ethernets.mirror.match.macaddress).toBe(guestMacs(2).mirror);
        const text = renderNetworkConfig(guest);
        expect(text).not.toMatch(/gateway|routes|nameservers|dhcp4: true/);
    });

    it("names the instance and host in meta-data", () => {
        expect(parse(renderMetaData(guest, "i-123"))).toEqual({ "instance-id": "i-123", "local-hostname": "redis-ha-ovh-redis-1" });
    });
});

describe("qemu command line", () => {
    const base = {
        accel: "tcg" as const, guest, kernel: "/img/vmlinuz", initrd: "/img/initrd.img", disk: "/run/g/disk.qcow2", seed: "/run/g/seed.img",
        switchSocket: "/run/switch", mirrorCommand: "/usr/bin/python3 /repo/vm/mirror-httpd.py /img/repo", consoleLog: "/run/g/console.log", memoryMb: 768, cpus: 1,
    };

    it("restricts the user network to the mirror forward and the SSH forward", () => {
        const argv = qemuArgv(base);
        const userNet = argv[argv.indexOf("-netdev", argv.indexOf("-netdev") + 1) + 1];
        expect(userNet).toMatch(/^user,id=mirror,restrict=on,/);
        expect(userNet).toContain(`guestfwd=tcp:${MIRROR_ADDRESS}:80-cmd:/usr/bin/python3 /repo/vm/mirror-httpd.py /img/repo`);
        expect(userNet).toContain("hostfwd=tcp:127.0.0.1:2202-10.0.2.15:22");
        expect(argv).toContain("vde,id=private,sock=/run/switch");
        expect(argv.join(" ")).toContain("ds=nocloud");
    });

    it("doubles commas in paths (QEMU's option syntax) and uses the host CPU only with KVM", () => {
        const argv = qemuArgv({ ...base, disk: "/run/a,b/disk.qcow2" });
        expect(argv).toContain("file=/run/a,,b/disk.qcow2,if=virtio,format=qcow2,cache=unsafe");
        expect(argv).not.toContain("host");
        expect(qemuArgv({ ...base, accel: "kvm" })).toEqual(expect.arrayContaining(["-accel", "kvm", "-cpu", "host"]));
    });

    it("uses KVM only with hardware virtualisation, and honours an explicit choice", () => {
        expect(chooseAccel({ kvmDevice: true, cpuFlags: "fpu sse2 hypervisor" })).toBe("tcg");
        expect(chooseAccel({ kvmDevice: false, cpuFlags: "fpu vmx" })).toBe("tcg");
        expect(chooseAccel({ kvmDevice: true, cpuFlags: "fpu vmx" })).toBe("kvm");
        expect(chooseAccel({ override: "tcg", kvmDevice: true, cpuFlags: "svm" })).toBe("tcg");
        expect(() => chooseAccel({ override: "xen", kvmDevice: true, cpuFlags: "" })).toThrow(/kvm or tcg/);
    });
});

describe("image cache key", () => {
    it("changes with the builder and with any Debian version", () => {
        const a = imageKey("script v1", "redis-server=5:7.0.15-1");
        expect(imageKey("script v1", "redis-server=5:7.0.15-1")).toBe(a);
        expect(imageKey("script v2", "redis-server=5:7.0.15-1")).not.toBe(a);
        expect(imageKey("script v1", "redis-server=5:7.0.15-2")).not.toBe(a);
    });
});

describe("facts of a booted guest", () => {
    const userData = renderCloudConfig({
        hostName: "n1",
        sshAuthorizedKeys: ["ssh-ed25519 AAAA test"],
        redisConf: "port 6379\n",
        sentinelConf: "port 26379\n",
        operatorCredentials: renderOperatorCredentials({ redisPassword: "x".repeat(20), sentinelPassword: "y".repeat(20) }),
        bootGuard: { script: "#!/bin/bash\n", sentinelPassword: "x".repeat(20) },
        exporters: [
            { service: "redis", unit: renderExporterUnit("redis", "10.42.0.11", 6379), passwordFile: renderExporterPasswordFile("10.42.0.11", 6379, "x".repeat(20)) },
            { service: "sentinel", unit: renderExporterUnit("sentinel", "10.42.0.11", 26379), passwordFile: renderExporterPasswordFile("10.42.0.11", 26379, "y".repeat(20)) },
        ],
    });
    const expect_ = expectationsFor(userData, { stagingDir: STAGING_DIR, configs: [DEBIAN_PATHS.redisConf, DEBIAN_PATHS.sentinelConf] });

    const healthy = (overrides: Record<string, string> = {}) => {
        const lines = [
            ...expect_.units.map((u) => `UNIT ${u} active enabled`),
            ...Object.entries(expect_.sysctls).map(([k, v]) => `SYSCTL ${k} ${v}`),
            "THP enabled always madvise [never]",
            "THP defrag always defer defer+madvise madvise [never]",
            ...expect_.files.map((f) => `FILE ${f.path} ${f.owner} ${f.mode}`),
            "MASKED prometheus-redis-exporter.service masked",
            ...expect_.exporters.map((e) => `EXPORTER ${e} redis_up 1`),
            "CLOUDINIT done",
            "END",
        ];
        return lines.map((l) => {
            for (const [prefix, replacement] of Object.entries(overrides)) if (l.startsWith(prefix + " ") || l === prefix) return replacement;
            return l;
        }).join("\n");
    };

    it("expects what the user-data declares: the kept files' owner and mode, the staged configs gone, the services", () => {
        expect(expect_.units).toEqual(["redis-server.service", "redis-sentinel.service", "redis-ha-thp.service", "redis-ha-redis-exporter.service", "redis-ha-sentinel-exporter.service"]);
        expect(expect_.masked).toEqual(["prometheus-redis-exporter.service"]);
        expect(expect_.exporters).toEqual(["10.42.0.11:9121", "10.42.0.11:9122"]);
        expect(expect_.sysctls).toEqual({ "vm.overcommit_memory": "1", "net.core.somaxconn": "1024" });
        expect(expect_.files).toEqual(expect.arrayContaining([
            { path: "/etc/redis-ha/sentinel-password", owner: "root:root", mode: "600" },
            { path: "/etc/redis/redis.conf", owner: "redis:redis", mode: "640" },
            { path: "/etc/redis-ha/redis-exporter.json", owner: "root:prometheus", mode: "640" },
            { path: "/etc/redis-ha/sentinel-exporter.json", owner: "root:prometheus", mode: "640" },
        ]));
        expect(expect_.absent).toEqual(["redis.conf", "sentinel.conf", "redis-exporter.json", "redis-exporter.service", "sentinel-exporter.json", "sentinel-exporter.service"].map((f) => `${STAGING_DIR}/${f}`));
        const script = renderFactsScript(expect_);
        expect(script).toContain("systemctl is-enabled");
        expect(script).toContain("'/etc/redis/redis.conf'");
    });

    it("passes a healthy guest's report", () => {
        expect(factFailures("n1", healthy(), expect_)).toEqual([]);
    });

    it("names the host and the fact for each thing that is wrong", () => {
        const failures = factFailures("n1", healthy({
            "UNIT redis-sentinel.service": "UNIT redis-sentinel.service active disabled",
            "SYSCTL vm.overcommit_memory": "SYSCTL vm.overcommit_memory 0",
            "THP enabled": "THP enabled [always] madvise never",
            "FILE /etc/redis/sentinel.conf": "FILE /etc/redis/sentinel.conf redis:redis 644",
            "MASKED prometheus-redis-exporter.service": "MASKED prometheus-redis-exporter.service enabled",
            "EXPORTER 10.42.0.11:9122": "EXPORTER 10.42.0.11:9122 redis_up 0",
            "CLOUDINIT": "CLOUDINIT error",
        }) + `\nPRESENT ${STAGING_DIR}/redis.conf`, expect_);
        expect(failures).toEqual([
            'n1: redis-sentinel.service is "active disabled", want "active enabled"',
            "n1: sysctl vm.overcommit_memory = 0, want 1",
            'n1: transparent_hugepage/enabled is "[always] madvise never", want [never]',
            "n1: /etc/redis/sentinel.conf is redis:redis 644, want redis:redis 640",
            `n1: ${STAGING_DIR}/redis.conf still exists after the first boot`,
            'n1: prometheus-redis-exporter.service is "enabled", want "masked"',
            'n1: the exporter on 10.42.0.11:9122 says "redis_up 0", want "redis_up 1"',
            "n1: cloud-init status is error, want done",
        ]);
    });

    it("fails a report cut short (SSH dropped) instead of passing what it did not see", () => {
        expect(factFailures("n1", "UNIT redis-server.service active enabled\n", expect_)).toEqual([expect.stringMatching(/did not run to the end/)]);
    });
});
