# medianest_perf — PGXS build.
#
#   make            build the shared library
#   make install    install it into the PostgreSQL found by $(PG_CONFIG)
#   make test       install dependencies, build with -Werror, install, and run
#                   the pg_regress and pgTAP suites against a scratch cluster
#   make demo       the same set-up, then a sample workload and its findings

EXTENSION   = medianest_perf
MODULE_big  = medianest_perf
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA        = $(sort $(wildcard sql/medianest_perf--*.sql))
# Every sql/*.sql that is not an install/upgrade script is a regression test.
REGRESS     = $(filter-out medianest_perf--%,$(basename $(notdir $(sort $(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --dbname=contrib_regression
EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
             -Wno-missing-field-initializers

.PHONY: test demo deps

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
# every object depends on every header (PGXS tracks no header dependencies)
$(OBJS): $(wildcard src/*.h)
else
# No PostgreSQL development files yet: only the self-installing targets work.
all install installcheck:
	@echo "pg_config not found: run 'make test' or 'make demo' (they install it)" >&2; exit 1
endif

deps:
	bash test/install_deps.sh

test:
	bash test/run_tests.sh

demo:
	bash test/demo.sh
