// An entry file `npm test` runs in the DeviceScript VM: the contraction-metrics scenarios, alone in their
// run because they take most of the VM's ~64 KB heap (see metrics.vm.ts).
import "./metrics.vm"
