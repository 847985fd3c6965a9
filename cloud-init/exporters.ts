/**
 * The Prometheus exporters every node runs: Debian's prometheus-redis-exporter, once for the local
 * Redis and once for the local Sentinel (the same binary switches to Sentinel metrics by itself),
 * each under a unit of ours, as user prometheus, listening on the private address only. Debian's own
 * unit would listen on every address with no password; first boot masks it.
 *
 * Each reads its password from a JSON file (the exporter's --redis.password-file: target URI ->
 * password), root-owned and readable by the prometheus group only. The exporter reads it at start,
 * so a rotation rewrites it and restarts the exporter (renderHostCredentialsScript).
 */
import { EXPORTER_REDIS_USER, exporterPassword, sentinelClientPassword } from "../components/core/aclUsers";
import { REDIS_EXPORTER_PORT, SENTINEL_EXPORTER_PORT } from "../components/core/monitoring";

export type ExportedService = "redis" | "sentinel";

export interface ExporterFiles {
    service: ExportedService;
    unitName: string;
    unitPath: string;
    passwordFile: string;
    port: number;
}

/** Debian's own unit, masked at first boot. */
export const DEBIAN_EXPORTER_UNIT = "prometheus-redis-exporter.service";
export const EXPORTER_PACKAGE = "prometheus-redis-exporter";
export const EXPORTER_BINARY = "/usr/bin/prometheus-redis-exporter";
export const EXPORTER_USER = "prometheus";

export const EXPORTERS: Record<ExportedService, ExporterFiles> = {
    redis: {
        service: "redis",
        unitName: "redis-ha-redis-exporter.service",
        unitPath: "/etc/systemd/system/redis-ha-redis-exporter.service",
        passwordFile: "/etc/redis-ha/redis-exporter.json",
        port: REDIS_EXPORTER_PORT,
    },
    sentinel: {
        service: "sentinel",
        unitName: "redis-ha-sentinel-exporter.service",
        unitPath: "/etc/systemd/system/redis-ha-sentinel-exporter.service",
        passwordFile: "/etc/redis-ha/sentinel-exporter.json",
        port: SENTINEL_EXPORTER_PORT,
    },
};

/**
 * The Redis exporter's login, in a drop-in beside its unit: Debian's exporter reads REDIS_USER (its
 * -redis.user) and REDIS_EXPORTER_CONFIG_COMMAND (its -config-command; "-" skips CONFIG GET, which
 * the exporter's user may not run, instead of asking and being refused at every scrape). A drop-in,
 * not lines in the unit: a host made before the user gets it from the credentials step, its unit
 * left as it is. The Sentinel exporter logs in as the Sentinels' `default`, which needs no name.
 */
export const EXPORTER_LOGIN_DROPIN_PATH = `${EXPORTERS.redis.unitPath}.d/redis-ha-login.conf`;
export const EXPORTER_LOGIN_DROPIN = ["[Service]", `Environment=REDIS_USER=${EXPORTER_REDIS_USER}`, "Environment=REDIS_EXPORTER_CONFIG_COMMAND=-", ""].join("\n");

/**
 * The exporters a host runs and what each logs in to: one beside its Redis (as the exporter user),
 * one beside its Sentinel (as the Sentinels' client user). `passwords` are the stack's.
 * First boot (hostFiles.ts) and the rotation's credentials step (hostCredentials.ts) both ask this.
 */
export function exportersOf(
    host: { redisRole?: unknown; sentinel: boolean },
    ports: { redisPort: number; sentinelPort: number },
    passwords: { redis: string; sentinel: string },
): Array<{ service: ExportedService; port: number; password: string }> {
    return [
        // As the exporter user (EXPORTER_LOGIN_DROPIN), which may read INFO and little else.
        ...(host.redisRole ? [{ service: "redis" as const, port: ports.redisPort, password: exporterPassword(passwords.redis) }] : []),
        // The Sentinels' client user may read what the exporter reads (aclUsers.ts), and change nothing.
        ...(host.sentinel ? [{ service: "sentinel" as const, port: ports.sentinelPort, password: passwords.sentinel === "" ? "" : sentinelClientPassword(passwords.sentinel) }] : []),
    ];
}

/** The exporter's target, as its password file keys it. */
export const exporterTarget = (bindAddress: string, port: number) => `redis://${bindAddress}:${port}`;

/** The password file: the one target, its password ("" for a Sentinel without auth). */
export function renderExporterPasswordFile(bindAddress: string, port: number, password: string): string {
    return JSON.stringify({ [exporterTarget(bindAddress, port)]: password }) + "\n";
}

/** The exporter's command line, which the unit runs and the lab runs the same way. */
export function exporterArgv(service: ExportedService, bindAddress: string, port: number): string[] {
    const exporter = EXPORTERS[service];
    return [
        EXPORTER_BINARY,
        "-redis.addr", exporterTarget(bindAddress, port),
        "-redis.password-file", exporter.passwordFile,
        "-web.listen-address", `${bindAddress}:${exporter.port}`,
        // Below Prometheus's scrape timeout (10 s): a node that vanished reads as redis_up 0, not as a failed scrape.
        "-connection-timeout", "5s",
    ];
}

export function renderExporterUnit(service: ExportedService, bindAddress: string, port: number): string {
    const after = service === "redis" ? "redis-server.service" : "redis-sentinel.service";
    return [
        "[Unit]",
        `Description=Prometheus exporter for the local ${service === "redis" ? "Redis" : "Sentinel"} (redis-ha)`,
        `After=network-online.target ${after}`,
        "Wants=network-online.target",
        // systemd gives up on a unit that starts 5 times in 10 s, which RestartSec=2 reaches when the
        // exporter cannot bind yet or is stopped by two rotations in a row: it must never give up.
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        `User=${EXPORTER_USER}`,
        `ExecStart=${exporterArgv(service, bindAddress, port).join(" ")}`,
        // Also when it is killed: a password rotation restarts it that way, on a VM as in the lab.
        "Restart=always",
        "RestartSec=2",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
