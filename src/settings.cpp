#include "module.h"

extern "C" {
#include "postgres.h"

#include "utils/guc.h"
}

namespace pk {

void module_init() {
    MarkGUCPrefixReserved("pk_keys");
}

}  // namespace pk
