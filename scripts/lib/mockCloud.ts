/**
 * Runs the redis-ha program (or components) against Pulumi's own mocks: no credentials, no cloud.
 * The mocks play the clouds' part where the program needs an answer (ids, assigned addresses,
 * public IPs from the documentation ranges) and record every resource the program asks for.
 * Used by `npm run plan` and by the component and program tests.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type * as pulumiModule from "@pulumi/pulumi";

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs as the provider would receive them, secrets unwrapped. */
    inputs: Record<string, any>;
    /** Top-level inputs that arrived as secrets. */
    secretInputs: string[];
    id: string;
    /** The resource options that order and shape replacements, with resources by name. */
    options: RecordedOptions;
}

export interface RecordedOptions {
    dependsOn: string[];
    deleteBeforeReplace?: boolean;
    deletedWith?: string;
    replaceOnChanges?: string[];
    ignoreChanges?: string[];
}

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts specialSigKey / specialSecretSig). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

export function unwrapSecrets(value: any): any {
    if (isSecretValue(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    return value;
}

/** What the program would see for one stack: its config as Pulumi hands it over, and which keys are secret. */
export interface StackConfig {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys: string[];
    /** Secret settings that were missing or encrypted, and got a plan-only placeholder. */
    placeholders: string[];
}

const SECRET_SETTINGS = ["redis-ha:redisPassword", "redis-ha:previousRedisPassword", "redis-ha:sentinelPassword", "redis-ha:previousSentinelPassword"];

/** A value that passes validation, is obviously not a real password, and is unique per key. */
export function placeholderSecret(key: string): string {
    return `PLAN-ONLY-${key.replace(/^redis-ha:/, "")}-not-a-real-secret`;
}

function configValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Reads Pulumi.yaml defaults and Pulumi.<stack>.yaml the way the CLI would. Encrypted values cannot
 * be read without the stack's secrets provider, so secret settings get placeholders (reported).
 */
export function readStackConfig(stack: string, dir = path.resolve(__dirname, "../..")): StackConfig {
    const projectFile = parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
    const stackPath = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackPath)) throw new Error(`no stack file ${path.basename(stackPath)} in ${dir}`);
    const stackFile = parse(fs.readFileSync(stackPath, "utf8")) ?? {};
    const config: Record<string, string> = {};
    for (const [key, decl] of Object.entries<any>(projectFile.config ?? {})) {
        if (decl && typeof decl === "object" && "default" in decl) config[key] = configValue(decl.default);
    }
    const placeholders: string[] = [];
    for (const [key, value] of Object.entries<any>(stackFile.config ?? {})) {
        if (value && typeof value === "object" && "secure" in value) {
            config[key] = placeholderSecret(key);
            placeholders.push(key);
        } else {
            config[key] = configValue(value);
        }
    }
    for (const key of SECRET_SETTINGS) {
        // Sentinels without auth take no password: a placeholder would be reported as a contradiction.
        if (key === "redis-ha:sentinelPassword" && config["redis-ha:sentinelAuth"] === "false") continue;
        // Optional: set only during a rotation, which a placeholder would pretend is under way.
        if (key === "redis-ha:previousRedisPassword" || key === "redis-ha:previousSentinelPassword") continue;
        if (!config[key]) {
            config[key] = placeholderSecret(key);
            placeholders.push(key);
        }
    }
    return { project: projectFile.name, stack, config, secretKeys: SECRET_SETTINGS, placeholders };
}

/** Assigns the cloud-side answers a real create would give. */
class FakeCloud {
    private counters = new Map<string, number>();
    private vpcRanges = new Map<string, string>();

    private next(key: string): number {
        const n = (this.counters.get(key) ?? 0) + 1;
        this.counters.set(key, n);
        return n;
    }

    private publicAddress(): string {
        return `198.51.100.${10 + this.next("public")}`;
    }

    create(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
        const id = `${name}-id`;
        switch (type) {
            case "ovh:CloudProject/networkPrivate:NetworkPrivate":
                return { id, state: { ...inputs, regionsAttributes: (inputs.regions ?? []).map((region: string) => ({ region, openstackid: `${name}-${region}-openstack-id`, status: "ACTIVE" })) } };
            case "openstack:compute/instance:Instance":
                return { id, state: { ...inputs, accessIpV4: this.publicAddress() } };
            case "digitalocean:index/vpc:Vpc":
                this.vpcRanges.set(id, inputs.ipRange);
                return { id, state: { ...inputs, urn: `do:vpc:${id}` } };
            case "digitalocean:index/droplet:Droplet": {
                // DigitalOcean hands out VPC addresses from the start of the range (after the reserved first ones).
                const range = this.vpcRanges.get(inputs.vpcUuid) ?? "10.0.0.0/24";
                const [base] = range.split("/");
                const octets = base.split(".").map(Number);
                const address = [octets[0], octets[1], octets[2], octets[3] + 1 + this.next(`vpc:${inputs.vpcUuid}`)].join(".");
                return { id: String(this.next("droplet-id") + 4000000), state: { ...inputs, ipv4AddressPrivate: address, ipv4Address: this.publicAddress() } };
            }
            default:
                return { id, state: { ...inputs } };
        }
    }
}

/** Installs the mocks and returns the list that fills as the program registers resources. */
export function installMocks(pulumi: typeof pulumiModule, project: string, stack: string): RecordedResource[] {
    const recorded: RecordedResource[] = [];
    const cloud = new FakeCloud();
    // Options never reach the mocks; the SDK's registration call sees them as the program gave them.
    const optionsOf = new Map<string, RecordedOptions>();
    const nameOf = (r: unknown) => String((r as { __name?: string }).__name);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const registration = require("@pulumi/pulumi/runtime/resource");
    const register = registration.registerResource;
    registration.registerResource = (res: unknown, parent: unknown, type: string, name: string, ...rest: unknown[]) => {
        const opts = rest[4] as pulumiModule.CustomResourceOptions;
        const dependsOn = opts.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
        optionsOf.set(`${type} ${name}`, {
            dependsOn: (dependsOn as unknown[]).map(nameOf),
            deleteBeforeReplace: opts.deleteBeforeReplace,
            deletedWith: opts.deletedWith ? nameOf(opts.deletedWith) : undefined,
            replaceOnChanges: opts.replaceOnChanges,
            ignoreChanges: opts.ignoreChanges,
        });
        return register(res, parent, type, name, ...rest);
    };
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = unwrapSecrets(args.inputs);
                const secretInputs = Object.entries(args.inputs ?? {}).filter(([, v]) => isSecretValue(v)).map(([k]) => k);
                const result = cloud.create(args.type, args.name, inputs);
                recorded.push({ type: args.type, name: args.name, inputs, secretInputs, id: result.id, options: optionsOf.get(`${args.type} ${args.name}`) ?? { dependsOn: [] } });
                return { id: result.id, state: result.state };
            },
            call(args) {
                if (args.token === "openstack:networking/getNetwork:getNetwork") return { id: `${args.inputs.name}-id`, name: args.inputs.name };
                throw new Error(`the mocks do not answer ${args.token}`);
            },
        },
        project,
        stack,
        false,
    );
    return recorded;
}

/** Resolves an Output under mocks (tests and the plan need the values). */
export function valueOf<T>(pulumi: typeof pulumiModule, output: pulumiModule.Output<T> | T): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => {
        resolve(v as T);
        return v;
    }));
}

/** Waits until the program stops registering resources (applies create resources late). */
export async function settle(recorded: RecordedResource[]): Promise<void> {
    let last = -1;
    for (let i = 0; i < 200 && recorded.length !== last; i++) {
        last = recorded.length;
        await new Promise((r) => setTimeout(r, 20));
    }
}

export interface ProgramRun {
    resources: RecordedResource[];
    outputs: Record<string, unknown>;
    /** The exported Outputs themselves, for checks of secretness. */
    exports: Record<string, unknown>;
    /** What the program threw (e.g. a config validation error), if it did. */
    error?: unknown;
}

/**
 * Runs index.ts for a stack config under mocks. Must be called with a fresh module registry
 * (a fresh process, or jest.isolateModules), since Pulumi's runtime state is global.
 */
export async function runProgram(stackConfig: StackConfig, load: () => Record<string, unknown>): Promise<ProgramRun> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const pulumi: typeof pulumiModule = require("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
    const resources = installMocks(pulumi, stackConfig.project, stackConfig.stack);
    let exports: Record<string, unknown>;
    try {
        exports = load();
    } catch (error) {
        await settle(resources);
        return { resources, outputs: {}, exports: {}, error };
    }
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(exports)) outputs[key] = await valueOf(pulumi, value as any);
    await settle(resources);
    return { resources, outputs, exports };
}
