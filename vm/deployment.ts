/**
 * What the VM test boots: a cloud stack's config (OVH by default: static private addresses, like the
 * VMs here), with a test SSH key and generated passwords, run through the real program under
 * Pulumi's mocks. Each host's user-data and check command are taken from the recorded resources,
 * so the guests boot byte-for-byte what `pulumi up` would send to the cloud.
 */
import type { RecordedResource, StackConfig } from "../scripts/lib/mockCloud";
import type { DeploymentConfig, DeploymentSecrets } from "../components/core/model";
import { renderHostFiles } from "../cloud-init/hostFiles";
import { CONFIG_NAMESPACE } from "../components/core/settings";
import type { HostPlan } from "../components/core/topology";
import { parseCidr } from "../components/core/cidr";

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

/** The arguments of one renderHostFiles() call the program made (recorded by the test's spy). */
export type RenderCall = Parameters<typeof renderHostFiles>;

export interface VmHost {
    plan: HostPlan;
    /** Exactly the program's user-data for this host. */
    userData: string;
    /** The program's post-deploy check for this host (remote.Command): login user, command, script on stdin. */
    check?: { user: string; command: string; script: string };
    /** The program's secret delivery for this host (secretsDelivery ssh), run right after it boots; none when its user-data carries them. */
    delivery?: { user: string; command: string; script: string };
}

export interface VmDeployment {
    hosts: VmHost[];
    /** The program's settings rollout (remote.Command): the host it runs on, login user, command, script on stdin. */
    rollout: { host: string; user: string; command: string; script: string };
    /** The deployment's Redis/Sentinel settings and secrets, as the program passed them to the renderer. */
    config: DeploymentConfig;
    secrets: DeploymentSecrets;
    prefixLength: number;
    masterAddress: string;
}

function prefixOf(cidr: string): number {
    const parsed = parseCidr(cidr);
    if (!parsed.ok) throw new Error(`subnet ${cidr}: ${parsed.reason}`);
    return parsed.cidr.prefix;
}

/**
 * Reads a program run into the hosts the VM test boots: for each renderHostFiles() call, the
 * instance resource that carries that user-data, and the check command named after the host.
 */
export function deploymentFrom(resources: RecordedResource[], calls: RenderCall[]): VmDeployment {
    if (calls.length === 0) throw new Error("the program rendered no host (was renderHostFiles recorded?)");
    // In plan order: the program renders (and creates) the replicas before the plan's master.
    const ordered = [...calls].sort((a, b) => a[0].name.localeCompare(b[0].name, "en", { numeric: true }));
    const hosts = ordered.map((call): VmHost => {
        const [plan] = call;
        if (!plan.privateAddress) throw new Error(`${plan.name} has no planned address: the VM test boots static-address stacks (ovh)`);
        const instance = resources.find((r) => r.name === plan.name && typeof r.inputs.userData === "string");
        if (!instance) throw new Error(`the program registered no instance with user-data named ${plan.name}`);
        if (renderHostFiles(...call).userData !== instance.inputs.userData) throw new Error(`${plan.name}: the recorded render call does not reproduce the instance's user-data`);
        const check = resources.find((r) => r.type === "command:remote:Command" && r.name === `${plan.name}-check`);
        const delivery = resources.find((r) => r.type === "command:remote:Command" && r.name === `${plan.name}-secrets`);
        return {
            plan,
            userData: instance.inputs.userData,
            check: check ? { user: check.inputs.connection.user, command: check.inputs.create, script: check.inputs.stdin } : undefined,
            delivery: delivery ? { user: delivery.inputs.connection.user, command: delivery.inputs.create, script: delivery.inputs.stdin } : undefined,
        };
    });
    const master = hosts.find((h) => h.plan.redisRole === "master");
    if (!master) throw new Error("the program rendered no master");
    const settings = resources.find((r) => r.type === "command:remote:Command" && r.name.endsWith("-settings"));
    if (!settings) throw new Error("the program registered no settings rollout");
    // The host it runs on: the one whose check connects to the same address.
    const rolloutHost = hosts.find((h) => resources.some((r) => r.name === `${h.plan.name}-check` && r.inputs.connection.host === settings.inputs.connection.host));
    if (!rolloutHost) throw new Error("the settings rollout connects to no host that has a check");
    const rollout = { host: rolloutHost.plan.name, user: settings.inputs.connection.user, command: settings.inputs.create, script: settings.inputs.stdin };
    return { hosts, rollout, config: calls[0][2], secrets: calls[0][3], prefixLength: prefixOf(master.plan.subnet), masterAddress: master.plan.privateAddress! };
}
