/** The command lines users type (npm run plan / ops / lab / bench:*), parsed by node:util's parseArgs. */
import { parseDay2Args } from "../../bench/day2";
import { parseFailoverArgs } from "../../bench/failover";
import { parseWordPressArgs } from "../../bench/wordpress";
import { parseLabArgs } from "../../lab/cli";
import { parseOpsArgs } from "../../scripts/ops";
import { parsePlanArgs } from "../../scripts/plan";

test("plan: the stack, short or long, and its switches; an unknown option or a missing value names the usage", () => {
    expect(parsePlanArgs(["-s", "ovh", "--json", "--out", "plan-out/ovh"])).toEqual({ stack: "ovh", json: true, out: "plan-out/ovh", dir: undefined });
    expect(() => parsePlanArgs(["--stack", "ovh", "--jsno"])).toThrow(/Unknown option '--jsno'.*usage: npm run plan/);
    expect(() => parsePlanArgs(["--stack"])).toThrow(/argument missing/);
    expect(() => parsePlanArgs(["--json"])).toThrow(/--stack is required/);
});

test("ops: one command and a stack, nothing else", () => {
    expect(parseOpsArgs(["switchover", "--stack", "ovh"])).toEqual({ command: "switchover", stack: "ovh" });
    expect(() => parseOpsArgs(["failover", "--stack", "ovh"])).toThrow(/usage: npm run ops/);
    expect(() => parseOpsArgs(["drift", "extra", "--stack", "ovh"])).toThrow(/usage: npm run ops/);
});

test("lab: the command, its operands, and the stack (default lab)", () => {
    expect(parseLabArgs(["crash", "rha-lab-redis-0", "redis"])).toEqual({ command: "crash", stack: "lab", positional: ["rha-lab-redis-0", "redis"] });
    expect(parseLabArgs(["up", "--stack", "two"]).stack).toBe("two");
    expect(() => parseLabArgs(["up", "--force"])).toThrow(/Unknown option/);
});

test("benches: defaults, lists checked against their choices, counts bounded, --set repeatable", () => {
    const failover = parseFailoverArgs(["--drills", "5", "--set", "downAfterMilliseconds=3000", "--set", "quorum=2", "--clients", "ioredis"]);
    expect(failover).toMatchObject({ drills: 5, otherDrills: 1, clients: ["ioredis"], set: { downAfterMilliseconds: "3000", quorum: "2" }, soakSeconds: 0 });
    expect(() => parseFailoverArgs(["--drills", "many"])).toThrow(/--drills "many": must be a whole number from 0 to 200/);
    expect(() => parseFailoverArgs(["--clients", "jedis"])).toThrow(/unknown client jedis; choose from/);
    expect(() => parseFailoverArgs(["--set", "quorum"])).toThrow(/must be key=value/);
    expect(parseWordPressArgs([]).drills).toBe(2);
    expect(() => parseWordPressArgs(["--drills", "0"])).toThrow(/at least 1/);
    expect(parseDay2Args(["--runs", "1"]).runs).toBe(1);
});
