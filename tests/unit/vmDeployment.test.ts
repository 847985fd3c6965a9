import { readStackConfig } from "../../scripts/lib/mockCloud";
import { VmDeployment, vmStackConfig } from "../../vm/deployment";
import { renderVmDeployment } from "../support/vmDeployment";

/** What the VM test boots, without booting: the OVH stack as `pulumi up` would render it, with the test's settings. */
describe("the VM test's deployment", () => {
    const overrides = {
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ6x7lYQk2o6b7n3C7WZ0v9z2b2Q0bq4m8l3o1u3G0Yh vm-test",
        redisPassword: "vmtestRedisPassword0123456789",
        sentinelPassword: "vmtestSentinelPassword0123456789",
        privateNetworkCidr: "192.168.77.0/24",
    };
    let deployment: VmDeployment;
    let quick: VmDeployment;
    beforeAll(async () => {
        deployment = await renderVmDeployment(vmStackConfig(readStackConfig("ovh"), overrides));
        quick = await renderVmDeployment(vmStackConfig(readStackConfig("ovh"), { ...overrides, checkTimeoutSeconds: 30 }));
    });

    it("is the OVH stack on the test's network, key and passwords, with the program's check per node", () => {
        expect(deployment.hosts.map((h) => [h.plan.name, h.plan.redisRole, h.plan.privateAddress])).toEqual([
            ["redis-ha-ovh-redis-0", "master", "192.168.77.11"],
            ["redis-ha-ovh-redis-1", "replica", "192.168.77.12"],
            ["redis-ha-ovh-redis-2", "replica", "192.168.77.13"],
        ]);
        expect(deployment.prefixLength).toBe(24);
        expect(deployment.masterAddress).toBe("192.168.77.11");
        for (const host of deployment.hosts) {
            expect(host.userData).toContain(overrides.sshPublicKey);
            expect(host.userData).not.toContain("ops@example");
            expect(host.check).toEqual({ user: "debian", command: "sudo -n bash -s", script: expect.stringContaining("cloud-init status --wait") });
        }
        expect(deployment.secrets).toEqual({ redisPassword: overrides.redisPassword, sentinelPassword: overrides.sentinelPassword });
    });

    it("a check budget changes the check, never the user-data", () => {
        expect(quick.hosts.map((h) => h.userData)).toEqual(deployment.hosts.map((h) => h.userData));
        expect(quick.hosts[0].check!.script).not.toBe(deployment.hosts[0].check!.script);
    });
});
