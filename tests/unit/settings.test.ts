import { ConfigValidationError, SettingProblem, formatProblem } from "../../components/core/errors";
import { validateStackConfig } from "../../components/core/settings";
import { REDIS_PASSWORD, SENTINEL_PASSWORD, VALID_DO, VALID_OVH } from "../support/fixtures";

function problemsOf(raw: Record<string, string | undefined>): SettingProblem[] {
    const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as Record<string, string>;
    try {
        validateStackConfig(clean);
    } catch (e) {
        if (e instanceof ConfigValidationError) return e.problems;
        throw e;
    }
    return [];
}

describe("valid stacks", () => {
    test("sentinelAuth false needs no Sentinel password, and says what guards the Sentinels instead", () => {
        const { sentinelPassword: _unused, ...withoutSentinelPassword } = VALID_OVH;
        const { settings, warnings } = validateStackConfig({ ...withoutSentinelPassword, sentinelAuth: "false" });
        expect(settings.sentinelAuth).toBe(false);
        expect(settings.sentinelPassword).toBe("");
        expect(warnings.join("\n")).toMatch(/sentinelAuth is false/);
    });

    test("an OVH stack gets the documented defaults", () => {
        const { settings, warnings } = validateStackConfig(VALID_OVH);
        expect(settings).toMatchObject({
            zones: ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"],
            replicaCount: 2,
            sentinelCount: 3,
            quorum: 2,
            sentinelPlacement: "colocated",
            downAfterMilliseconds: 1500,
            failoverTimeoutMilliseconds: 10000,
            parallelSyncs: 1,
            persistence: "aof+rdb",
            minReplicasToWrite: 1,
            minReplicasMaxLag: 3,
            maxmemoryPolicy: "noeviction",
            redisPort: 6379,
            sentinelPort: 26379,
            instanceType: "b3-8",
            image: "Debian 12",
            sshUser: "debian",
            allowWorldAccess: false,
            checks: true,
            secretsDelivery: "ssh",
        });
        expect(warnings.some((w) => w.includes("maxmemory is 0"))).toBe(true);
    });

    test("without checks the passwords travel in the user-data, and preview says so unless that was chosen", () => {
        const unchosen = validateStackConfig({ ...VALID_OVH, checks: "false" });
        expect(unchosen.settings.secretsDelivery).toBe("user-data");
        expect(unchosen.warnings.join("\n")).toMatch(/redis-ha:checks is false, so nothing can deliver the passwords over SSH: they travel in the user-data/);
        const chosen = validateStackConfig({ ...VALID_OVH, checks: "false", secretsDelivery: "user-data" });
        expect(chosen.warnings.join("\n")).not.toMatch(/deliver the passwords/);
        expect(validateStackConfig({ ...VALID_OVH, secretsDelivery: "user-data" }).settings.secretsDelivery).toBe("user-data");
    });

    test("a DigitalOcean stack over three datacenters has no single-datacenter warning", () => {
        const { settings, warnings } = validateStackConfig(VALID_DO);
        expect(settings.zones).toEqual(["ams3", "fra1", "lon1"]);
        expect(settings.sshUser).toBe("root");
        expect(warnings.join("\n")).not.toMatch(/DigitalOcean datacenter/);
    });

    test("a DigitalOcean stack in one datacenter is allowed, with the limit stated", () => {
        const { warnings } = validateStackConfig({ ...VALID_DO, zones: undefined as unknown as string, privateNetworkCidr: "10.42.0.0/24" });
        expect(warnings.join("\n")).toMatch(/Every node sits in the DigitalOcean datacenter ams3/);
    });

    test("a single-AZ OVH region falls back to anti-affinity, and says so", () => {
        const { settings, warnings } = validateStackConfig({ ...VALID_OVH, region: "GRA11" });
        expect(settings.zones).toEqual(["nova"]);
        expect(warnings.join("\n")).toMatch(/single availability zone.*anti-affinity/);
    });

    test("five dedicated Sentinels in two zones keep their majority away from the master", () => {
        expect(problemsOf({ ...VALID_OVH, zones: '["eu-west-par-a","eu-west-par-b"]', sentinelCount: "5", sentinelPlacement: "dedicated" })).toEqual([]);
    });
});

/** [case, config change, setting named, words of the problem] */
const BAD_INPUTS: Array<[string, Record<string, string | undefined>, string, RegExp]> = [
    ["even Sentinel count", { sentinelCount: "4" }, "redis-ha:sentinelCount", /must be odd/],
    ["fewer than 3 Sentinels", { sentinelCount: "1" }, "redis-ha:sentinelCount", /at least 3/],
    ["quorum above the Sentinel count", { quorum: "4" }, "redis-ha:quorum", /larger than sentinelCount \(3\)/],
    ["quorum below a majority", { quorum: "1" }, "redis-ha:quorum", /smaller than a majority of 3 Sentinels \(2\)/],
    ["master and Sentinel majority in one zone", { zones: '["eu-west-par-a","eu-west-par-b"]' }, "redis-ha:zones", /zone eu-west-par-a would hold the master and 2 of 3 Sentinels/],
    ["everything in one AZ of a 3-AZ region", { zones: '["eu-west-par-b"]' }, "redis-ha:zones", /one availability zone/],
    ["more zones than the region has", { zones: '["eu-west-par-a","eu-west-par-b","eu-west-par-c","eu-west-par-d"]' }, "redis-ha:zones", /asks for 4 zones but EU-WEST-PAR has 3/],
    ["a zone of another region", { zones: '["eu-west-par-a","gra-b","eu-west-par-c"]' }, "redis-ha:zones", /gra-b is not a zone of EU-WEST-PAR/],
    ["an unknown region", { region: "EU-WEST-PARIS" }, "redis-ha:region", /not a ovh region redis-ha knows/],
    ["malformed CIDR", { appCidrs: '["10.42.0/24"]' }, "redis-ha:appCidrs[0]", /not a valid IPv4 CIDR/],
    ["CIDR prefix above 32", { adminCidrs: '["203.0.113.10/33"]' }, "redis-ha:adminCidrs[0]", /larger than \/32/],
    ["CIDR with host bits set", { appCidrs: '["10.42.0.130/24"]' }, "redis-ha:appCidrs[0]", /host bits set \(the network is 10.42.0.0\/24\)/],
    ["overlapping CIDRs", { appCidrs: '["10.42.0.0/24","10.42.0.128/25"]' }, "redis-ha:appCidrs[1]", /overlaps redis-ha:appCidrs\[0\]|overlaps appCidrs\[0\]/],
    ["world open on Redis without opt-in", { appCidrs: '["0.0.0.0/0"]' }, "redis-ha:appCidrs", /admits 3,702,258,688 public IPv4 addresses \(100\.0% of the Internet's; widest: 0\.0\.0\.0\/0\) to port 6379 \(application clients\) and 26379/],
    ["world open on SSH without opt-in", { adminCidrs: '["0.0.0.0/0"]' }, "redis-ha:adminCidrs", /admits 3,702,258,688 public IPv4 addresses .* to port 22 \(operators/],
    ["the Internet as two halves", { appCidrs: '["0.0.0.0/1","128.0.0.0/1"]' }, "redis-ha:appCidrs", /admits 3,702,258,688 public IPv4 addresses/],
    ["the Internet as 256 /8s", { adminCidrs: JSON.stringify(Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`)) }, "redis-ha:adminCidrs", /admits 3,702,258,688 public IPv4 addresses/],
    ["a /15 of public space as 512 /24s", { appCidrs: JSON.stringify(Array.from({ length: 512 }, (_, i) => `81.${80 + (i >> 8)}.${i & 255}.0/24`)) }, "redis-ha:appCidrs", /admits 131,072 public IPv4 addresses .*more than the 65,536/],
    ["a wide block of the monitoring list", { monitoringCidrs: '["64.0.0.0/2"]' }, "redis-ha:monitoringCidrs", /to port 9121 .* and 9122/],
    ["short password", { redisPassword: "short-pass" }, "redis-ha:redisPassword", /10 characters long; at least 16/],
    ["password with a space", { redisPassword: "correct horse battery staple" }, "redis-ha:redisPassword", /whitespace/],
    ["password with a newline", { sentinelPassword: "abcdefgh12345678\nsentinel monitor evil 6.6.6.6 6379 1" }, "redis-ha:sentinelPassword", /line break/],
    ["password with a quote", { redisPassword: 'abcdefgh"12345678' }, "redis-ha:redisPassword", /quote/],
    ["password with #", { redisPassword: "abcdefgh#12345678" }, "redis-ha:redisPassword", /'#'/],
    ["password with a backslash", { redisPassword: "abcdefgh\\12345678" }, "redis-ha:redisPassword", /backslash/],
    ["missing Redis password", { redisPassword: undefined }, "redis-ha:redisPassword", /is required/],
    ["same password for Redis and Sentinel", { sentinelPassword: REDIS_PASSWORD }, "redis-ha:sentinelPassword", /same as redisPassword/],
    ["a previous Redis password equal to the new one", { previousRedisPassword: REDIS_PASSWORD }, "redis-ha:previousRedisPassword", /same as redisPassword: there is nothing to rotate/],
    ["a previous Redis password that could inject a line", { previousRedisPassword: "abcdefgh12345678\nrequirepass x" }, "redis-ha:previousRedisPassword", /line break/],
    ["a previous Sentinel password equal to the new one", { previousSentinelPassword: SENTINEL_PASSWORD }, "redis-ha:previousSentinelPassword", /same as sentinelPassword: there is nothing to rotate/],
    ["a previous Sentinel password equal to the Redis password", { previousSentinelPassword: REDIS_PASSWORD }, "redis-ha:previousSentinelPassword", /same as a Redis password/],
    ["a previous Sentinel password that could inject a line", { previousSentinelPassword: "abcdefgh12345678\nsentinel monitor evil 6.6.6.6 6379 1" }, "redis-ha:previousSentinelPassword", /line break/],
    ["a previous Sentinel password for Sentinels without auth", { sentinelAuth: "false", sentinelPassword: undefined, previousSentinelPassword: "old-sentinel-Password-0123" }, "redis-ha:previousSentinelPassword", /set while sentinelAuth is false: Sentinels without auth have no password to rotate/],
    ["a Sentinel password that Sentinels without auth would never ask for", { sentinelAuth: "false" }, "redis-ha:sentinelPassword", /set while sentinelAuth is false/],
    ["sentinelAuth that is not a boolean", { sentinelAuth: "off" }, "redis-ha:sentinelAuth", /not true or false/],
    ["a diskless sync delay beyond a minute", { replDisklessSyncDelay: "300" }, "redis-ha:replDisklessSyncDelay", /between 0 and 60/],
    ["master name Sentinel rejects", { masterName: "my master" }, "redis-ha:masterName", /not a Sentinel master name/],
    ["master name with a newline", { masterName: "m\nsentinel" }, "redis-ha:masterName", /not a Sentinel master name/],
    ["Redis and Sentinel on one port", { sentinelPort: "6379" }, "redis-ha:sentinelPort", /clashes with redisPort/],
    ["Redis on the SSH port", { redisPort: "22" }, "redis-ha:redisPort", /clashes with SSH/],
    ["privileged port", { sentinelPort: "263" }, "redis-ha:sentinelPort", /privileged port/],
    ["port out of range", { redisPort: "70000" }, "redis-ha:redisPort", /between 1 and 65535/],
    ["malformed maxmemory", { maxmemory: "2 GB" }, "redis-ha:maxmemory", /not a size/],
    ["maxmemory in GiB", { maxmemory: "2gib" }, "redis-ha:maxmemory", /not a size/],
    ["unknown eviction policy", { maxmemoryPolicy: "lru" }, "redis-ha:maxmemoryPolicy", /must be one of noeviction, allkeys-lru/],
    ["typo in a setting name", { sentinals: "3" }, "redis-ha:sentinals", /is not a redis-ha setting/],
    ["unknown cloud", { cloud: "aws" }, "redis-ha:cloud", /must be one of ovh, digitalocean/],
    ["unknown placement", { sentinelPlacement: "spread" }, "redis-ha:sentinelPlacement", /must be one of colocated, dedicated/],
    ["colocated Sentinels outnumbering nodes", { sentinelCount: "5" }, "redis-ha:sentinelCount", /more than the 3 Redis nodes/],
    ["no replicas", { replicaCount: "0" }, "redis-ha:replicaCount", /between 1 and 8/],
    ["not a number", { replicaCount: "two" }, "redis-ha:replicaCount", /not a whole number/],
    ["down-after too small", { downAfterMilliseconds: "500" }, "redis-ha:downAfterMilliseconds", /between 1000 and 600000/],
    ["failover timeout not above down-after", { downAfterMilliseconds: "30000", failoverTimeoutMilliseconds: "30000" }, "redis-ha:failoverTimeoutMilliseconds", /larger than downAfterMilliseconds \(30000\)/],
    ["parallel syncs above replicas", { parallelSyncs: "3" }, "redis-ha:parallelSyncs", /more than replicaCount \(2\)/],
    ["min-replicas above replicas", { minReplicasToWrite: "3" }, "redis-ha:minReplicasToWrite", /refuse every write/],
    ["no SSH keys", { sshPublicKeys: undefined }, "redis-ha:sshPublicKeys", /is required/],
    ["a private key pasted as public key", { sshPublicKeys: '["-----BEGIN OPENSSH PRIVATE KEY-----"]' }, "redis-ha:sshPublicKeys[0]", /not a single-line OpenSSH public key/],
    ["zones not a list", { zones: "eu-west-par-a" }, "redis-ha:zones", /not a list/],
    ["no admin CIDRs", { adminCidrs: undefined }, "redis-ha:adminCidrs", /is required/],
    ["empty app CIDRs", { appCidrs: "[]" }, "redis-ha:appCidrs", /is required/],
    ["OVH without project id", { ovhProjectId: undefined }, "redis-ha:ovhProjectId", /required for cloud ovh/],
    ["private network too small", { privateNetworkCidr: "10.42.0.0/28" }, "redis-ha:privateNetworkCidr", /room for 0 fixed addresses but the plan needs 3/],
    ["boolean typo", { allowWorldAccess: "yes" }, "redis-ha:allowWorldAccess", /not true or false/],
    ["unknown persistence", { persistence: "always" }, "redis-ha:persistence", /must be one of aof\+rdb, aof, rdb, none/],
    ["passwords delivered over SSH with the checks' SSH off", { checks: "false", secretsDelivery: "ssh" }, "redis-ha:secretsDelivery", /needs the checks' SSH to the hosts, and checks is false/],
    ["an unknown way to deliver the passwords", { secretsDelivery: "vault" }, "redis-ha:secretsDelivery", /must be one of ssh, user-data/],
];

describe("bad input is rejected with the setting, the value and the fix", () => {
    test.each(BAD_INPUTS)("%s", (_case, change, setting, words) => {
        const problems = problemsOf({ ...VALID_OVH, ...change });
        const hit = problems.find((p) => p.setting === setting && words.test(p.problem));
        if (!hit) throw new Error(`expected a problem on ${setting} matching ${words}, got:\n${problems.map(formatProblem).join("\n")}`);
        const message = formatProblem(hit);
        expect(message.startsWith(`${setting} = `)).toBe(true);
        expect(hit.fix.length).toBeGreaterThan(10);
        expect(message).toContain("Fix: ");
    });

    test(`there are at least 25 distinct cases (${BAD_INPUTS.length})`, () => {
        expect(new Set(BAD_INPUTS.map(([name]) => name)).size).toBeGreaterThanOrEqual(25);
    });

    test("a typo suggests the setting that was meant", () => {
        const [problem] = problemsOf({ ...VALID_OVH, sentinals: "3" });
        expect(problem.fix).toContain("did you mean redis-ha:sentinelCount?");
    });

    test("every problem is reported at once, not one per preview", () => {
        const problems = problemsOf({ ...VALID_OVH, sentinelCount: "4", maxmemory: "lots", redisPort: "22" });
        expect(problems.map((p) => p.setting).sort()).toEqual(["redis-ha:maxmemory", "redis-ha:redisPort", "redis-ha:sentinelCount"]);
    });

    test("a DigitalOcean datacenter that does not exist is named", () => {
        const problems = problemsOf({ ...VALID_DO, zones: '["ams3","fra9","lon1"]' });
        expect(problems.map(formatProblem).join("\n")).toMatch(/redis-ha:zones = .*fra9 is not a DigitalOcean datacenter/);
    });

    test("error messages never contain a password, even a rejected one", () => {
        const bad = "abcdefgh#12345678-SECRETWORD";
        const error = (() => {
            try {
                validateStackConfig({ ...VALID_OVH, redisPassword: bad, sentinelPassword: "tiny" });
            } catch (e) {
                return e as Error;
            }
            throw new Error("expected a validation error");
        })();
        expect(error.message).not.toContain("SECRETWORD");
        expect(error.message).not.toContain("tiny");
        expect(error.message).not.toContain(SENTINEL_PASSWORD);
        expect(error.message).toContain("<secret, 28 characters>");
    });
});
