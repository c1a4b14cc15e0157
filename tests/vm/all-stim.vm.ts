// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one):
// the stim supervisor, its caps and plan.
import "./stim.vm"
