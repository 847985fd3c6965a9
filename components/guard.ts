import * as pulumi from "@pulumi/pulumi";
import { ImmutableSetting, immutableChangeRefusals } from "./core/immutableSettings";

/**
 * Records what a running deployment cannot change (components/core/immutableSettings.ts) and refuses,
 * in its diff, a `pulumi preview` or `up` that would change one: the preview fails with the reason
 * and the way to get there instead, and the hosts and networks, which depend on the guard, are
 * never reached. A dynamic resource, because only a provider's diff sees the recorded value beside
 * the new one before anything is changed.
 */
// Pulumi keeps a dynamic provider's code in the state, serialised with what it uses: a function by
// value, but a module of an installed package as `require("<its path in the package>")`, which the
// package's `exports` map forbids, and which Pulumi 3.248 derives wrongly when the project's path
// also holds the package's name (it looks for the first "redis-ha" in the path). Referring to the
// function itself, which uses no module, keeps the provider self-contained.
const refusalsOf = immutableChangeRefusals;

const guardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        return { id: "deployment-guard", outs: inputs };
    },
    async diff(_id, olds, news) {
        const recorded = Object.fromEntries((JSON.parse(olds.settings) as ImmutableSetting[]).map((s) => [s.key, s.value]));
        const names: Record<string, string> = news.settingNames ? JSON.parse(news.settingNames) : {};
        const refusals = refusalsOf(recorded, JSON.parse(news.settings), (key) => names[key] ?? key);
        if (refusals.length > 0) throw new Error(`${news.component}: refused, nothing was changed:\n  - ${refusals.join("\n  - ")}`);
        return { changes: olds.settings !== news.settings };
    },
    async update(_id, _olds, news) {
        // Only additions get here (a node added at the end); they are recorded from now on.
        return { outs: news };
    },
};

export class DeploymentGuard extends pulumi.dynamic.Resource {
    /**
     * `settingNames` maps a key to what the user calls it (the stack setting, or the component arg),
     * so a refusal names what they can change back.
     */
    constructor(name: string, args: { component: string; settings: readonly ImmutableSetting[]; settingNames?: Record<string, string> }, opts?: pulumi.CustomResourceOptions) {
        super(guardProvider, name, { component: args.component, settings: JSON.stringify(args.settings), settingNames: JSON.stringify(args.settingNames ?? {}) }, opts);
    }
}
