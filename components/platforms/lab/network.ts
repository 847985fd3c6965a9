/**
 * The lab's address plan, derived from the same topology plan a cloud gets: one network namespace
 * per planned VM at its planned address, plus three namespaces that play the world around it:
 * `app` (inside appCidrs), `admin` (inside adminCidrs; the checks SSH from there) and `outsider`
 * (inside the private network but outside every allowed CIDR). Pure.
 */
import { ConfigValidationError, SettingProblem, showValue } from "../../core/errors";
import { Ipv4Cidr, addressAt, cidrContains, cidrSize, parseCidr } from "../../core/cidr";
import type { HostPlan, TopologyPlan } from "../../core/topology";

export interface LabEndpoint {
    /** Network namespace name (also the host name for planned VMs). */
    namespace: string;
    address: string;
    /** Name of the veth end inside the bridge namespace (at most 15 characters). */
    bridgePort: string;
}

export interface LabNetwork {
    /** The namespace that holds the bridge; nothing in it routes anywhere. */
    bridgeNamespace: string;
    /** The private network, e.g. 10.42.0.0/24. */
    subnet: string;
    prefixLength: number;
    hosts: Array<LabEndpoint & { plan: HostPlan }>;
    app: LabEndpoint;
    admin: LabEndpoint;
    outsider: LabEndpoint;
    /** Where this machine's own namespace joins the bridge when the Pulumi engine drives the lab (inside adminCidrs). */
    operatorAddress: string;
}

function firstAddressIn(cidr: Ipv4Cidr, taken: Set<string>): string | undefined {
    for (let offset = 1; offset < cidrSize(cidr) - 1; offset++) {
        const address = addressAt(cidr, offset);
        if (!taken.has(address)) return address;
    }
    return undefined;
}

export function planLabNetwork(plan: TopologyPlan, namePrefix: string, settings: { appCidrs: readonly string[]; adminCidrs: readonly string[] }): LabNetwork {
    const subnet = parseCidr(plan.subnets[0].cidr);
    if (!subnet.ok) throw new Error(`the plan's subnet ${plan.subnets[0].cidr} ${subnet.reason}`);
    const network = subnet.cidr;
    const taken = new Set(plan.hosts.map((h) => h.privateAddress!));
    const problems: SettingProblem[] = [];
    const inNetwork = (key: "appCidrs" | "adminCidrs"): Ipv4Cidr | undefined => {
        for (const text of settings[key]) {
            const parsed = parseCidr(text);
            if (parsed.ok && cidrContains(network, parsed.cidr.network)) return parsed.cidr;
        }
        problems.push({
            setting: `redis-ha:${key}`,
            value: showValue(settings[key]),
            problem: `has no block inside the lab's private network ${network.text}, so the lab cannot place its ${key === "appCidrs" ? "app" : "admin"} namespace`,
            fix: `add a block of ${network.text}, e.g. ${key === "appCidrs" ? addressAt(network, cidrSize(network) * 3 / 4) + "/27" : addressAt(network, cidrSize(network) * 7 / 8) + "/28"}`,
        });
        return undefined;
    };
    const app = inNetwork("appCidrs");
    const admin = inNetwork("adminCidrs");
    if (problems.length > 0) throw new ConfigValidationError(problems);
    const pick = (cidr: Ipv4Cidr) => {
        const address = firstAddressIn(cidr, taken);
        if (!address) throw new Error(`no free address left in ${cidr.text}`);
        taken.add(address);
        return address;
    };
    const appAddress = pick(app!);
    const adminAddress = pick(admin!);
    const operatorAddress = pick(admin!);
    const allowed = [...settings.appCidrs, ...settings.adminCidrs].map((t) => parseCidr(t)).filter((p): p is { ok: true; cidr: Ipv4Cidr } => p.ok).map((p) => p.cidr);
    let outsiderAddress: string | undefined;
    for (let offset = cidrSize(network) - 2; offset > 0 && !outsiderAddress; offset--) {
        const candidate = addressAt(network, offset);
        const number = network.network + offset;
        if (!taken.has(candidate) && !allowed.some((c) => cidrContains(c, number))) outsiderAddress = candidate;
    }
    if (!outsiderAddress) throw new Error(`every address of ${network.text} is allowed by appCidrs or adminCidrs; the lab needs one outside them for its outsider`);
    return {
        bridgeNamespace: `${namePrefix}-net`,
        subnet: network.text,
        prefixLength: network.prefix,
        hosts: plan.hosts.map((h, i) => ({ namespace: h.name, address: h.privateAddress!, bridgePort: `vh${i}`, plan: h })),
        app: { namespace: `${namePrefix}-app`, address: appAddress, bridgePort: "vapp" },
        admin: { namespace: `${namePrefix}-admin`, address: adminAddress, bridgePort: "vadmin" },
        outsider: { namespace: `${namePrefix}-outsider`, address: outsiderAddress, bridgePort: "vout" },
        operatorAddress,
    };
}
