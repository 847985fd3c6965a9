import { renderHostFiles } from "../../cloud-init/hostFiles";
import type { DeploymentConfig } from "../../components/core/model";
import { DIGITALOCEAN_ADDRESS_DISCOVERY } from "../../components/platforms/digitalocean";
import { TopologyPlanInput, planTopology } from "../../components/core/topology";
import { REDIS_PASSWORD, SENTINEL_PASSWORD, SSH_KEY } from "./fixtures";

export const CONFIG: DeploymentConfig = {
    masterName: "redis-ha",
    redisPort: 6379,
    sentinelPort: 26379,
    quorum: 2,
    persistence: "aof+rdb",
    maxmemory: "1gb",
    maxmemoryPolicy: "noeviction",
    minReplicasToWrite: 1,
    minReplicasMaxLag: 10,
    replDisklessSyncDelay: 5,
    appScripting: true,
    legacyDefaultUser: false,
    downAfterMilliseconds: 5000,
    failoverTimeoutMilliseconds: 60000,
    parallelSyncs: 1,
    sshPublicKeys: [SSH_KEY],
    knownSentinels: ["10.42.0.11:26379", "10.42.0.12:26379", "10.42.0.13:26379"],
    secretsDelivery: "user-data",
};
export const SECRETS = { redisPassword: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD };

export function plan(overrides: Partial<TopologyPlanInput> = {}) {
    return planTopology({
        namePrefix: "rha",
        zones: ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"],
        zoneKind: "availability-zone",
        replicaCount: 2,
        sentinelCount: 3,
        sentinelPlacement: "colocated",
        addressing: "static",
        privateNetworkCidr: "10.42.0.0/24",
        ...overrides,
    });
}

/** Every kind of host the renderers produce: colocated master/replica, dedicated Sentinel, cloud-assigned addresses. */
export function allHostVariants(config: DeploymentConfig = CONFIG) {
    const CONFIG = config;
    const colocated = plan();
    const dedicated = plan({ sentinelPlacement: "dedicated" });
    const dynamic = plan({ addressing: "dynamic", zones: ["ams3", "fra1", "lon1"], zoneKind: "datacenter", privateNetworkCidr: "10.42.0.0/22" });
    return [
        { label: "colocated master", files: renderHostFiles(colocated.hosts[0], "10.42.0.11", CONFIG, SECRETS) },
        { label: "colocated replica", files: renderHostFiles(colocated.hosts[1], "10.42.0.11", CONFIG, SECRETS) },
        { label: "data node without Sentinel", files: renderHostFiles(dedicated.hosts[1], "10.42.0.11", CONFIG, SECRETS) },
        { label: "dedicated Sentinel", files: renderHostFiles(dedicated.hosts[3], "10.42.0.11", CONFIG, SECRETS) },
        { label: "DigitalOcean master", files: renderHostFiles(dynamic.hosts[0], "", CONFIG, SECRETS, DIGITALOCEAN_ADDRESS_DISCOVERY) },
        { label: "DigitalOcean replica", files: renderHostFiles(dynamic.hosts[2], "10.42.0.2", CONFIG, SECRETS, DIGITALOCEAN_ADDRESS_DISCOVERY) },
    ];
}
