# pk_keys — PGXS build.
EXTENSION  = pk_keys
MODULE_big = pk_keys
PGFILEDESC = "pk_keys - API keys, authentication and usage inside PostgreSQL"

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS   = $(sort $(wildcard src/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# Install scripts are assembled from parts (one file per concern):
#   pk_keys--1.0.sql       sql/install/1.0/*.sql (released; frozen)
#   pk_keys--1.0--1.1.sql  sql/install/1.1/*.sql (the 1.1 changes)
#   pk_keys--1.1.sql       the 1.0 parts, then the very same 1.1 parts
# so a fresh 1.1 install and an upgraded 1.0 database run the same statements.
V10_PARTS  = $(sort $(wildcard sql/install/1.0/*.sql))
V11_PARTS  = $(sort $(wildcard sql/install/1.1/*.sql))
DATA_built = pk_keys--1.0.sql pk_keys--1.1.sql pk_keys--1.0--1.1.sql

# Regression tests: every sql/<name>.sql that is not an install script.
REGRESS      = $(sort $(basename $(notdir $(filter-out sql/pk_keys--%,$(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --load-extension=pk_keys
ISOLATION      = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation
TAP_TESTS   = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PG_CPPFLAGS += -I$(srcdir)/src
# PostgreSQL's own headers are treated as system headers so -Wextra reports
# only our code.
PG_CPPFLAGS += -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS += -std=c++17 -Wno-register -Wall -Wextra -MMD -MP $(EXTRA_CXXFLAGS)
SHLIB_LINK  += -lstdc++ -lcrypto
# Debian's PGXS would build LLVM bitcode with clang and without PG_CXXFLAGS;
# nothing here benefits from JIT inlining, so do not build it.
override with_llvm = no

# src/core must stay free of PostgreSQL headers (see src/core/no_postgres.h).
$(CORE_SRCS:.cpp=.o): CPPFLAGS += -DPK_CORE_ONLY

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

pk_keys--1.0.sql: $(V10_PARTS)
	cat $^ > $@

pk_keys--1.1.sql: sql/install/header-1.1.sql $(filter-out %/00_header.sql,$(V10_PARTS)) $(V11_PARTS)
	cat $^ > $@

pk_keys--1.0--1.1.sql: sql/install/header-1.0--1.1.sql $(V11_PARTS)
	cat $^ > $@

EXTRA_CLEAN = $(OBJS:.o=.d) test/unit/build

-include $(OBJS:.o=.d)

# Split targets so scripts/test.sh can report regress and isolation apart.
installcheck-regress-only: install
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation-only: install
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

.PHONY: installcheck-regress-only installcheck-isolation-only

# Test-only entry points live in their own module (test/hooks), never in the
# production pk_keys.so; scripts/test.sh builds and installs it for the suite.
test-hooks:
	$(MAKE) -C test/hooks PG_CONFIG=$(PG_CONFIG)

install-test-hooks: test-hooks
	$(MAKE) -C test/hooks PG_CONFIG=$(PG_CONFIG) install

clean: clean-test-hooks
clean-test-hooks:
	$(MAKE) -C test/hooks PG_CONFIG=$(PG_CONFIG) clean

.PHONY: test-hooks install-test-hooks clean-test-hooks

# Release tarball from the committed tree (git archive): pk_keys-<version>.zip
# with everything under pk_keys-<version>/, the version taken from META.json.
DIST_VERSION = $(shell sed -n 's/^   "version": "\(.*\)",$$/\1/p' $(srcdir)/META.json)
DIST_NAME    = pk_keys-$(DIST_VERSION)
dist:
	git -C $(srcdir) archive --format=zip --prefix=$(DIST_NAME)/ -o $(abspath $(DIST_NAME).zip) HEAD
	@echo "wrote $(DIST_NAME).zip"

.PHONY: dist
