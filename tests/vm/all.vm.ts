// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one): import every
// *.vm.ts here (devs run takes a single file).
import "./core.vm"
import "./sensing.vm"
import "./metrics.vm"
