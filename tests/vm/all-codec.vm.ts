// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one):
// the byte codec, CRC and the formats built on them.
import "./codec.vm"
