// Library entry: the module magic block and _PG_init.
extern "C" {
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);
}

#include "module.h"

// Called once per backend when the library loads (or once in the postmaster
// when preloaded): registers settings and, if preloaded, shared memory.
void _PG_init(void) { pk::module_init(); }
