import type { DeploymentConfig, DeploymentSecrets } from "../components/core/model";
import type { HostPlan } from "../components/core/topology";
import { BOOT_GUARD_PASSWORD_FILE, renderBootGuard } from "./bootGuard";
import { AddressDiscovery, PRIVATE_ADDRESS_PLACEHOLDER, cloudConfigDocument, serializeCloudConfig } from "./cloudConfig";
import { hostSecrets } from "./secretDelivery";
import { SENTINEL_USER, appPassword, exporterPassword, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../components/core/aclUsers";
import { renderRedisConf } from "./redisConf";
import { renderSentinelConf } from "./sentinelConf";
import { renderOperatorCredentials } from "./operatorCredentials";
import { exportersOf, renderExporterPasswordFile, renderExporterUnit } from "./exporters";

export interface HostFiles {
    redisConf?: string;
    sentinelConf?: string;
    userData: string;
    /** The files in the user-data that hold tokens for passwords, which a delivery completes ([] with secretsDelivery user-data). */
    awaitingSecrets: string[];
}

/** The address a host binds to: its planned one, or the placeholder its first boot fills in. */
export function bindAddressOf(host: HostPlan): string {
    return host.privateAddress ?? PRIVATE_ADDRESS_PLACEHOLDER;
}

/**
 * Renders one host's redis.conf, sentinel.conf and user-data. `masterAddress` is where the master
 * is at creation time: known from the plan (static addressing), or learned from the master VM.
 */
export function renderHostFiles(
    host: HostPlan,
    masterAddress: string,
    config: DeploymentConfig,
    secrets: DeploymentSecrets,
    addressDiscovery?: AddressDiscovery,
): HostFiles {
    const bindAddress = bindAddressOf(host);
    const masterOfThisHost = host.redisRole === "master" ? bindAddress : masterAddress;
    const redisConf = host.redisRole
        ? renderRedisConf({
              hostName: host.name,
              zone: host.zone,
              bindAddress,
              port: config.redisPort,
              role: host.redisRole,
              masterAddress: host.redisRole === "replica" ? masterAddress : undefined,
              password: secrets.redisPassword,
              legacyDefaultUser: config.legacyDefaultUser,
              app: { password: appPassword(secrets.redisPassword), scripting: config.appScripting },
              sentinelUserPassword: sentinelUserPassword(secrets.redisPassword),
              replicationPassword: replicationPassword(secrets.redisPassword),
              exporterPassword: exporterPassword(secrets.redisPassword),
              persistence: config.persistence,
              maxmemory: config.maxmemory,
              maxmemoryPolicy: config.maxmemoryPolicy,
              minReplicasToWrite: config.minReplicasToWrite,
              minReplicasMaxLag: config.minReplicasMaxLag,
              replDisklessSyncDelay: config.replDisklessSyncDelay,
          })
        : undefined;
    const sentinelConf = host.sentinel
        ? renderSentinelConf({
              hostName: host.name,
              zone: host.zone,
              bindAddress,
              port: config.sentinelPort,
              masterName: config.masterName,
              masterAddress: masterOfThisHost,
              redisPort: config.redisPort,
              quorum: config.quorum,
              // Sentinels made with default off log in as their own user from the start: the nodes they join
              // have it (the settings rollout made it before any turned default off).
              ...(config.legacyDefaultUser ? { redisPassword: secrets.redisPassword } : { redisUser: SENTINEL_USER, redisPassword: sentinelUserPassword(secrets.redisPassword) }),
              sentinelPassword: secrets.sentinelPassword === "" ? undefined : secrets.sentinelPassword,
              downAfterMilliseconds: config.downAfterMilliseconds,
              failoverTimeoutMilliseconds: config.failoverTimeoutMilliseconds,
              parallelSyncs: config.parallelSyncs,
          })
        : undefined;
    const exporters = exportersOf(host, config, { redis: secrets.redisPassword, sentinel: secrets.sentinelPassword }).map(({ service, port, password }) =>
        ({ service, unit: renderExporterUnit(service, bindAddress, port), passwordFile: renderExporterPasswordFile(bindAddress, port, password) }));
    const needsDiscovery = host.privateAddress === undefined;
    if (needsDiscovery && !addressDiscovery) throw new Error(`${host.name} has no planned address and the platform gave no way to discover one`);
    const cloudConfig = cloudConfigDocument({
        hostName: host.name,
        sshAuthorizedKeys: config.sshPublicKeys,
        redisConf,
        sentinelConf,
        operatorCredentials: renderOperatorCredentials(secrets),
        bootGuard: host.redisRole
            ? { script: renderBootGuard({ hostName: host.name, masterName: config.masterName, sentinels: config.knownSentinels, passwordFile: BOOT_GUARD_PASSWORD_FILE }), sentinelPassword: secrets.sentinelPassword === "" ? "" : sentinelClientPassword(secrets.sentinelPassword) }
            : undefined,
        addressDiscovery: needsDiscovery ? addressDiscovery : undefined,
        exporters,
        withheldSecrets: config.secretsDelivery === "ssh" ? hostSecrets(secrets) : undefined,
    });
    return {
        redisConf,
        sentinelConf,
        userData: serializeCloudConfig(cloudConfig.document),
        awaitingSecrets: cloudConfig.awaitingSecrets,
    };
}
