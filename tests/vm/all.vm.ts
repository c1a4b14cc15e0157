// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one): import every
// *.vm.ts here (devs run takes a single file). The metrics scenarios have their own (all-metrics.vm.ts):
// with these beside them the VM's ~64 KB heap ran out.
import "./core.vm"
import "./sensing.vm"
