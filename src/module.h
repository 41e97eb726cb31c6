// Process-wide initialisation of the library.
#pragma once

namespace pk {

// Registers GUCs, shared memory and the background worker as applicable.
void module_init();

}  // namespace pk
