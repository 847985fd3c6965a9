import type { ProgramRun, StackConfig } from "../../scripts/lib/mockCloud";
import { deploymentFrom, RenderCall, VmDeployment } from "../../vm/deployment";

/**
 * The program, run under mocks for one stack config, in a module registry of its own. A spy on
 * renderHostFiles() records how the program rendered each host (plan, master address, settings,
 * secrets), so the VM test's broken case can change exactly one of those inputs.
 */
export async function renderVmDeployment(stack: StackConfig): Promise<VmDeployment> {
    let pending!: Promise<ProgramRun>;
    const calls: RenderCall[] = [];
    jest.isolateModules(() => {
        jest.doMock("../../cloud-init/hostFiles", () => {
            const actual = jest.requireActual("../../cloud-init/hostFiles") as typeof import("../../cloud-init/hostFiles");
            return {
                ...actual,
                renderHostFiles: (...args: RenderCall) => {
                    calls.push(args);
                    return actual.renderHostFiles(...args);
                },
            };
        });
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const mock = require("../../scripts/lib/mockCloud") as typeof import("../../scripts/lib/mockCloud");
        pending = mock.runProgram(stack, () => require("../../index"));
    });
    const run = await pending;
    jest.dontMock("../../cloud-init/hostFiles");
    if (run.error !== undefined) throw run.error;
    return deploymentFrom(run.resources, calls);
}
