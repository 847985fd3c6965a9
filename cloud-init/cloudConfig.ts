import { stringify } from "yaml";
import { BOOT_GUARD_DROPIN, BOOT_GUARD_DROPIN_PATH, BOOT_GUARD_PASSWORD_FILE, BOOT_GUARD_PATH } from "./bootGuard";
import { DEBIAN_EXPORTER_UNIT, EXPORTERS, EXPORTER_LOGIN_DROPIN, EXPORTER_LOGIN_DROPIN_PATH, EXPORTER_PACKAGE, EXPORTER_USER, ExportedService } from "./exporters";
import { DEBIAN_PATHS } from "./paths";
import { OPERATOR_CREDENTIALS_FILE } from "./operatorCredentials";
import { HostSecret, SECRET_TOKEN_PREFIX, awaitSecretsStep, withholdSecrets } from "./secretDelivery";

/** Where the cloud assigns the private address at creation, the configs carry this until first boot. */
export const PRIVATE_ADDRESS_PLACEHOLDER = "@PRIVATE_IPV4@";

export interface AddressDiscovery {
    /** Shell command that prints this VM's private IPv4 (e.g. from the cloud's metadata service). */
    command: string;
}

export interface CloudConfigInput {
    hostName: string;
    sshAuthorizedKeys: readonly string[];
    redisConf?: string;
    sentinelConf?: string;
    /** The operator credentials file's content (cloud-init/operatorCredentials.ts); every host has one. */
    operatorCredentials: string;
    /** For data nodes: the boot guard script and the Sentinel password it asks with. */
    bootGuard?: { script: string; sentinelPassword: string };
    /** Only for clouds that assign the private address themselves (DigitalOcean). */
    addressDiscovery?: AddressDiscovery;
    /** The exporters of the host's Redis and Sentinel: their units and password files (cloud-init/exporters.ts). */
    exporters?: ReadonlyArray<{ service: ExportedService; unit: string; passwordFile: string }>;
    /**
     * The passwords to keep out of the user-data (secretsDelivery ssh): each file stands with tokens
     * for them, and the first-boot script installs nothing until a delivery has put them back
     * (cloud-init/secretDelivery.ts). Undefined: the files carry them (secretsDelivery user-data).
     */
    withheldSecrets?: readonly HostSecret[];
}

/** A file cloud-init writes (`write_files`). */
export interface WrittenFile {
    path: string;
    owner: string;
    permissions: string;
    content: string;
}

/** Top-level keys the user-data may carry; the tests assert exactly these (cloud-init ignores unknown ones silently). */
export const CLOUD_CONFIG_KEYS = ["package_update", "package_upgrade", "packages", "ssh_authorized_keys", "write_files", "runcmd"] as const;

export const STAGING_DIR = "/etc/redis-ha/staged";
export const FIRST_BOOT_SCRIPT = "/usr/local/sbin/redis-ha-firstboot";
export const INSTALLED_MARKER = "/var/lib/redis-ha/installed";

export const SYSCTL_CONF = [
    "# redis-ha: fork() for snapshots and AOF rewrites must not fail under memory pressure.",
    "vm.overcommit_memory = 1",
    "# Accept queue above Redis's tcp-backlog (511), so bursts of client connects are not dropped.",
    "net.core.somaxconn = 1024",
    "",
].join("\n");

export const THP_UNIT = [
    "[Unit]",
    "Description=Disable transparent huge pages for Redis (latency spikes and copy-on-write bloat on fork)",
    "DefaultDependencies=no",
    "Before=redis-server.service redis-sentinel.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    "ExecStart=/bin/sh -c 'echo never > /sys/kernel/mm/transparent_hugepage/enabled; echo never > /sys/kernel/mm/transparent_hugepage/defrag'",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
].join("\n");

export function packagesFor(input: Pick<CloudConfigInput, "redisConf" | "sentinelConf" | "exporters">): string[] {
    return [...(input.redisConf ? ["redis-server"] : []), ...(input.sentinelConf ? ["redis-sentinel"] : []), "redis-tools", ...(input.exporters?.length ? [EXPORTER_PACKAGE] : [])];
}

/** Where an exporter's files wait, root-only, until first boot installs them. */
export const stagedExporterFiles = (service: ExportedService) => ({ unit: `${service}-exporter.service`, passwordFile: `${service}-exporter.json` });

/**
 * The first-boot script. The configs are staged root-only and moved into place with the services
 * stopped: Debian's packages start Redis and Sentinel with their stock configs on install, and a
 * running stock Sentinel would rewrite a sentinel.conf written under it.
 */
export function renderFirstBootScript(input: CloudConfigInput, awaitingSecrets: readonly string[] = []): string {
    const steps: string[] = [
        "#!/bin/bash",
        `# First boot of ${input.hostName}, rendered by redis-ha. Runs once (cloud-init runcmd); never re-run on a live node.`,
        "set -euo pipefail",
        `if [ -e ${INSTALLED_MARKER} ]; then echo "redis-ha: already installed, leaving the live configs alone"; exit 0; fi`,
        `staged=${STAGING_DIR}`,
        "systemctl stop redis-sentinel.service redis-server.service 2>/dev/null || true",
        // Stopped first: the packages' stock services, on loopback without a password, stay down while it waits.
        ...(awaitingSecrets.length > 0 ? [awaitSecretsStep(input.hostName, awaitingSecrets)] : []),
        "sysctl -p /etc/sysctl.d/60-redis-ha.conf",
        "systemctl daemon-reload",
        "systemctl enable --now redis-ha-thp.service",
    ];
    if (input.addressDiscovery) {
        steps.push(
            `address=$(${input.addressDiscovery.command})`,
            `if ! [[ "$address" =~ ^[0-9]{1,3}(\\.[0-9]{1,3}){3}$ ]]; then echo "redis-ha: could not learn the private address (got '$address')" >&2; exit 1; fi`,
            `sed -i "s/${PRIVATE_ADDRESS_PLACEHOLDER}/$address/g" "$staged"/*`,
        );
    }
    if (input.redisConf) {
        steps.push(
            `install -o redis -g redis -m 0640 "$staged/redis.conf" ${DEBIAN_PATHS.redisConf}`,
            "systemctl enable redis-server.service",
            "systemctl restart redis-server.service",
        );
    }
    if (input.sentinelConf) {
        steps.push(
            `install -o redis -g redis -m 0640 "$staged/sentinel.conf" ${DEBIAN_PATHS.sentinelConf}`,
            "systemctl enable redis-sentinel.service",
            "systemctl restart redis-sentinel.service",
        );
    }
    if (input.exporters?.length) {
        // Debian's unit would serve every address with no password: ours replace it.
        steps.push(`systemctl mask --now ${DEBIAN_EXPORTER_UNIT}`);
        for (const { service } of input.exporters) {
            const staged = stagedExporterFiles(service);
            steps.push(
                `install -D -o root -g ${EXPORTER_USER} -m 0640 "$staged/${staged.passwordFile}" ${EXPORTERS[service].passwordFile}`,
                `install -o root -g root -m 0644 "$staged/${staged.unit}" ${EXPORTERS[service].unitPath}`,
            );
        }
        steps.push("systemctl daemon-reload", `systemctl enable --now ${input.exporters.map((e) => EXPORTERS[e.service].unitName).join(" ")}`);
    }
    steps.push(
        'rm -rf "$staged"',
        `mkdir -p "$(dirname ${INSTALLED_MARKER})" && date -u +%FT%TZ > ${INSTALLED_MARKER}`,
        `echo "redis-ha: ${input.hostName} installed"`,
        "",
    );
    return steps.join("\n");
}

/**
 * The #cloud-config user-data for one VM, as data, and the files in it that wait for a delivery of
 * their passwords (empty unless `withheldSecrets`).
 */
export function cloudConfigDocument(input: CloudConfigInput): { document: Record<string, unknown>; awaitingSecrets: string[] } {
    if (!input.redisConf && !input.sentinelConf) throw new Error(`${input.hostName}: a host needs Redis, Sentinel or both`);
    const staged = (name: string, content: string): WrittenFile => ({ path: `${STAGING_DIR}/${name}`, owner: "root:root", permissions: "0600", content });
    const files: WrittenFile[] = [
        { path: "/etc/sysctl.d/60-redis-ha.conf", owner: "root:root", permissions: "0644", content: SYSCTL_CONF },
        { path: "/etc/systemd/system/redis-ha-thp.service", owner: "root:root", permissions: "0644", content: THP_UNIT },
        ...(input.redisConf ? [staged("redis.conf", input.redisConf)] : []),
        ...(input.sentinelConf ? [staged("sentinel.conf", input.sentinelConf)] : []),
        ...(input.exporters ?? []).flatMap((e) => [staged(stagedExporterFiles(e.service).passwordFile, e.passwordFile), staged(stagedExporterFiles(e.service).unit, e.unit)]),
        // In place before the first-boot script's daemon-reload, which reads it with the unit.
        ...((input.exporters ?? []).some((e) => e.service === "redis") ? [{ path: EXPORTER_LOGIN_DROPIN_PATH, owner: "root:root", permissions: "0644", content: EXPORTER_LOGIN_DROPIN }] : []),
        { path: OPERATOR_CREDENTIALS_FILE, owner: "root:root", permissions: "0600", content: input.operatorCredentials },
        ...(input.bootGuard
            ? [
                  { path: BOOT_GUARD_PATH, owner: "root:root", permissions: "0700", content: input.bootGuard.script },
                  { path: BOOT_GUARD_DROPIN_PATH, owner: "root:root", permissions: "0644", content: BOOT_GUARD_DROPIN },
                  { path: BOOT_GUARD_PASSWORD_FILE, owner: "root:root", permissions: "0600", content: input.bootGuard.sentinelPassword + "\n" },
              ]
            : []),
    ];
    const withheld = input.withheldSecrets;
    const written = withheld ? files.map((f) => ({ ...f, content: withholdSecrets(f.content, withheld, `${input.hostName}: ${f.path}`) })) : files;
    // Only root-only files may wait for a password: the delivery keeps each file's owner and mode.
    const awaitingSecrets = written.filter((f) => f.content.includes(SECRET_TOKEN_PREFIX)).map((f) => f.path);
    const exposed = written.filter((f) => f.content.includes(SECRET_TOKEN_PREFIX) && (f.owner !== "root:root" || f.permissions !== "0600"));
    if (exposed.length > 0) throw new Error(`${input.hostName}: ${exposed.map((f) => f.path).join(", ")} would hold a password without being root-only`);
    const document = {
        package_update: true,
        package_upgrade: false,
        packages: packagesFor(input),
        // cloud-init's schema refuses an empty list; a stack without keys (the lab's plan) gets none.
        ...(input.sshAuthorizedKeys.length > 0 ? { ssh_authorized_keys: [...input.sshAuthorizedKeys] } : {}),
        write_files: [...written, { path: FIRST_BOOT_SCRIPT, owner: "root:root", permissions: "0700", content: renderFirstBootScript(input, awaitingSecrets) }],
        runcmd: [[FIRST_BOOT_SCRIPT]],
    };
    return { document, awaitingSecrets };
}

/** A user-data document as cloud-init reads it, serialised by the yaml library. */
export function serializeCloudConfig(document: Record<string, unknown>): string {
    return "#cloud-config\n" + stringify(document, { lineWidth: 0 });
}

/** The #cloud-config user-data for one VM, built as data and serialised by the yaml library. */
export function renderCloudConfig(input: CloudConfigInput): string {
    return serializeCloudConfig(cloudConfigDocument(input).document);
}
