/**
 * What the VM test boots: a cloud stack's config (OVH by default: static private addresses, like the
 * VMs here), with a test SSH key and generated passwords, run through the real program under
 * Pulumi's mocks. Each host's user-data and check command are taken from the recorded resources,
 * so the guests boot byte-for-byte what `pulumi up` would send to the cloud.
 */
import type { RecordedResource, StackConfig } from "../scripts/lib/mockCloud";
import { DeploymentConfig, renderHostFiles } from "../cloud-init/hostFiles";
import { CONFIG_NAMESPACE, StackSettings, validateStackConfig } from "../components/core/settings";
import { HostPlan, planTopology } from "../components/core/topology";
import { regionZones } from "../components/core/regions";
import { parseCidr } from "../components/core/cidr";

function prefixOf(cidr: string): number {
    const parsed = parseCidr(cidr);
    if (!parsed.ok) throw new Error(`privateNetworkCidr ${cidr}: ${parsed.reason}`);
    return parsed.cidr.prefix;
}

export interface VmOverrides {
    sshPublicKey: string;
    redisPassword: string;
    sentinelPassword: string;
    privateNetworkCidr: string;
    checkTimeoutSeconds?: number;
}

/** The stack's config with the test's key, passwords and network: only settings a user could set. */
export function vmStackConfig(base: StackConfig, overrides: VmOverrides): StackConfig {
    const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
    const config: Record<string, string> = {
        ...base.config,
        [key("sshPublicKeys")]: JSON.stringify([overrides.sshPublicKey]),
        [key("redisPassword")]: overrides.redisPassword,
        [key("sentinelPassword")]: overrides.sentinelPassword,
        [key("privateNetworkCidr")]: overrides.privateNetworkCidr,
        ...(overrides.checkTimeoutSeconds ? { [key("checkTimeoutSeconds")]: String(overrides.checkTimeoutSeconds) } : {}),
    };
    return { ...base, config, placeholders: [] };
}

export interface VmHost {
    plan: HostPlan;
    /** Exactly the program's user-data for this host. */
    userData: string;
    /** The program's post-deploy check for this host (remote.Command): login user, command, script on stdin. */
    check?: { user: string; command: string; script: string };
}

export interface VmDeployment {
    settings: StackSettings;
    hosts: VmHost[];
    prefixLength: number;
    masterAddress: string;
}

/** The settings as the program validates them (the `redis-ha:` keys, prefix removed). */
export function settingsOf(stackConfig: StackConfig): StackSettings {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(stackConfig.config)) if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;
    return validateStackConfig(raw).settings;
}

/** The topology the program plans for these settings (same inputs as RedisReplicaSet). */
export function planOf(stackConfig: StackConfig, settings: StackSettings) {
    if (settings.cloud !== "ovh") throw new Error(`the VM test boots static-address stacks (ovh); ${stackConfig.stack} is ${settings.cloud}`);
    return planTopology({
        namePrefix: `${stackConfig.project}-${stackConfig.stack}`,
        zones: settings.zones,
        zoneKind: regionZones(settings.cloud, settings.region).zoneKind,
        replicaCount: settings.replicaCount,
        sentinelCount: settings.sentinelCount,
        sentinelPlacement: settings.sentinelPlacement,
        quorum: settings.quorum,
        addressing: "static",
        privateNetworkCidr: settings.privateNetworkCidr,
    });
}

/** Reads the recorded resources of a program run into the hosts the VM test boots. */
export function deploymentFrom(stackConfig: StackConfig, resources: RecordedResource[]): VmDeployment {
    const settings = settingsOf(stackConfig);
    const plan = planOf(stackConfig, settings);
    const hosts = plan.hosts.map((host): VmHost => {
        const instance = resources.find((r) => r.name === host.name && typeof r.inputs.userData === "string");
        if (!instance) throw new Error(`the program registered no instance with user-data named ${host.name}`);
        const check = resources.find((r) => r.type === "command:remote:Command" && r.name === `${host.name}-check`);
        return {
            plan: host,
            userData: instance.inputs.userData,
            check: check ? { user: check.inputs.connection.user, command: check.inputs.create, script: check.inputs.stdin } : undefined,
        };
    });
    return { settings, hosts, prefixLength: prefixOf(settings.privateNetworkCidr), masterAddress: plan.master.privateAddress! };
}

/**
 * One host's user-data as the program would render it if the master address it is given were
 * `masterAddress`: the renderer's own input changed, nothing hand-edited. Throws when the same
 * reconstruction with the real master address does not reproduce the program's user-data byte
 * for byte (the test's copy of the program's inputs would have drifted).
 */
export function userDataWithMasterAddress(stackConfig: StackConfig, deployment: VmDeployment, hostName: string, masterAddress: string): string {
    const { settings } = deployment;
    const plan = planOf(stackConfig, settings);
    const host = plan.hosts.find((h) => h.name === hostName);
    if (!host) throw new Error(`no host ${hostName} in the plan`);
    const config: DeploymentConfig = {
        masterName: settings.masterName,
        redisPort: settings.redisPort,
        sentinelPort: settings.sentinelPort,
        quorum: plan.quorum,
        persistence: settings.persistence,
        maxmemory: settings.maxmemory,
        maxmemoryPolicy: settings.maxmemoryPolicy,
        minReplicasToWrite: settings.minReplicasToWrite,
        minReplicasMaxLag: settings.minReplicasMaxLag,
        downAfterMilliseconds: settings.downAfterMilliseconds,
        failoverTimeoutMilliseconds: settings.failoverTimeoutMilliseconds,
        parallelSyncs: settings.parallelSyncs,
        sshPublicKeys: settings.sshPublicKeys,
        knownSentinels: plan.sentinels.filter((h) => h.privateAddress).map((h) => `${h.privateAddress}:${settings.sentinelPort}`),
    };
    const secrets = { redisPassword: settings.redisPassword, sentinelPassword: settings.sentinelPassword };
    const same = renderHostFiles(host, deployment.masterAddress, config, secrets).userData;
    const recorded = deployment.hosts.find((h) => h.plan.name === hostName)?.userData;
    if (same !== recorded) throw new Error(`rendering ${hostName} outside the program no longer reproduces the program's user-data; update vm/deployment.ts`);
    return renderHostFiles(host, masterAddress, config, secrets).userData;
}
