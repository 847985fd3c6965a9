/**
 * Everything RedisReplicaSet decides before it creates a resource, as one pure function of its args
 * (the pulumi-eks pattern): the settings with their defaults, the topology, the renderers' model and
 * what the deployment guard records. The constructor only turns the plan into resources, so a test
 * of what args produce needs neither Pulumi's mocks nor a spy.
 */
import type { Addressing } from "./topology";
import { ConfigValidationError } from "./errors";
import { ImmutableSetting, deploymentIdentity, replacementRefusal } from "./immutableSettings";
import { DeploymentConfig, deploymentConfigOf } from "./model";
import type { ZoneKind } from "./regions";
import { ReplicaSetSettings, ReplicaSetSettingsArgs, resolveReplicaSetSettings } from "./replicaSetSettings";
import { STACK_NAMES, SettingNames, componentNames } from "./settingNames";
import type { SettingKey } from "./settingsSchema";
import { TopologyPlan, planTopology } from "./topology";

/** What planReplicaSet needs of the args: the settings, and the two facts it needs of the platform. */
export interface ReplicaSetPlanArgs extends ReplicaSetSettingsArgs {
    platform: { addressing: Addressing; providesLoginKey: boolean };
    zoneKind?: ZoneKind;
    instanceType?: string;
    image?: string;
    access?: object;
    previousRedisPassword?: unknown;
    sentinel?: { password?: unknown; previousPassword?: unknown };
}

export interface ReplicaSetPlan {
    settings: ReplicaSetSettings;
    topology: TopologyPlan;
    config: DeploymentConfig;
    /** What a running deployment cannot change, as the deployment guard records it. */
    identity: ImmutableSetting[];
    /** The settings model's warnings and the planner's, for pulumi.log.warn. */
    warnings: string[];
}

/**
 * A setting as both of RedisReplicaSet's users know it, the stack's and the component's
 * ("redis-ha:redisPort (args.redis.port)"): the deployment guard's refusals reach either.
 */
export function bothNames(key: SettingKey): string {
    return `${STACK_NAMES.name(key)} (${componentNames("RedisReplicaSet").name(key)})`;
}

/** What the guard's refusals call each recorded value ("hosts" are what replicaCount plans). */
export const GUARD_SETTING_NAMES: Record<string, string> = {
    ...Object.fromEntries((["masterName", "redisPort", "sentinelPort", "privateNetworkCidr", "sentinelPlacement", "image", "instanceType", "sentinelCount"] as const).map((key) => [key, bothNames(key)])),
    hosts: bothNames("replicaCount"),
};

/** Plans a replica set; throws ConfigValidationError with every problem, in the args' names. */
export function planReplicaSet(name: string, args: ReplicaSetPlanArgs, names: SettingNames = componentNames("RedisReplicaSet")): ReplicaSetPlan {
    const resolved = resolveReplicaSetSettings(args, args.platform.providesLoginKey, names);
    if (resolved.problems.length > 0) throw new ConfigValidationError(resolved.problems);
    const settings = resolved.settings;
    const topology = planTopology({
        namePrefix: name,
        zones: settings.zones,
        zoneKind: args.zoneKind ?? "availability-zone",
        replicaCount: settings.replicaCount,
        sentinelCount: settings.sentinelCount,
        sentinelPlacement: settings.sentinelPlacement,
        quorum: settings.quorum,
        addressing: args.platform.addressing,
        privateNetworkCidr: settings.privateNetworkCidr,
    }, names);
    const config = deploymentConfigOf(settings, topology);
    const identity = deploymentIdentity({
        masterName: settings.masterName,
        redisPort: settings.redisPort,
        sentinelPort: settings.sentinelPort,
        privateNetworkCidr: settings.privateNetworkCidr,
        sentinelPlacement: settings.sentinelPlacement,
        image: args.image!,
        instanceType: args.instanceType!,
        sentinelCount: settings.sentinelCount,
        hosts: topology.hosts,
        rotationsUnderWay: [
            ...(args.previousRedisPassword === undefined ? [] : [bothNames("previousRedisPassword")]),
            ...(args.sentinel?.previousPassword === undefined ? [] : [bothNames("previousSentinelPassword")]),
        ],
        replacementRefusal: replacementRefusal({
            fixedAddresses: args.platform.addressing === "static",
            sshAccess: args.access !== undefined,
            replicaCount: settings.replicaCount,
            minReplicasToWrite: config.minReplicasToWrite,
        }),
    });
    return { settings, topology, config, identity, warnings: [...resolved.warnings, ...topology.warnings] };
}
