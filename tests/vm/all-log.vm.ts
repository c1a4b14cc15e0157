// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one):
// the session log record format and store (their own run: the VM heap is ~64 KB).
import "./log.vm"
