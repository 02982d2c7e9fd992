/*-------------------------------------------------------------------------
 *
 * medianest_perf.c
 *	  Module entry point: PG_MODULE_MAGIC, _PG_init and the shared-memory
 *	  hooks that size and create every module's shared structures.
 *
 * Each module defines its GUCs in its own *_init() function.  Shared memory
 * is requested once, as the sum of the modules' *_shmem_size(), and created
 * in one shmem_startup_hook under AddinShmemInitLock.  When the library is
 * not in shared_preload_libraries (for example loaded by CREATE EXTENSION
 * alone), GUCs are still defined so that the on-demand functions (bloat,
 * index scoring) work, but no hooks are installed and every function that
 * needs shared memory refuses with a hint (mnp_require_shmem).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "bloat.h"
#include "medianest_perf.h"
#include "health.h"
#include "index_usage.h"
#include "slowlog.h"
#include "nplus1.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* true once this process has attached to our shared memory */
bool		mnp_shmem_attached = false;

static LWLockPadded *mnp_locks = NULL;

static void mnp_shmem_request(void);
static void mnp_shmem_startup(void);

/* Library load: define GUCs; when preloaded, also hooks and shared memory. */
void
_PG_init(void)
{
	bool		preloading = process_shared_preload_libraries_in_progress;

	mnp_stmt_store_init();
	mnp_slowlog_init();
	mnp_collector_init_gucs();
	mnp_index_usage_init();
	mnp_nplus1_init();
	mnp_health_init();
	mnp_advisor_init();
	mnp_bloat_init();

	MarkGUCPrefixReserved(MNP_NAME);

	if (!preloading)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = mnp_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = mnp_shmem_startup;

	mnp_collector_install_hooks();
}

/* Ask for the sum of every module's shared memory and our LWLock tranche. */
static void
mnp_shmem_request(void)
{
	Size		size = 0;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	size = add_size(size, mnp_stmt_store_shmem_size());
	size = add_size(size, mnp_slowlog_shmem_size());
	size = add_size(size, mnp_nplus1_shmem_size());
	RequestAddinShmemSpace(size);
	RequestNamedLWLockTranche(MNP_NAME, MNP_NUM_LOCKS);
}

/* Create or attach every module's shared structures. */
static void
mnp_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	mnp_locks = GetNamedLWLockTranche(MNP_NAME);
	mnp_stmt_store_shmem_startup();
	mnp_slowlog_shmem_startup();
	mnp_nplus1_shmem_startup();
	LWLockRelease(AddinShmemInitLock);

	/* loading the saved statistics happens outside AddinShmemInitLock */
	if (!IsUnderPostmaster)
	{
		mnp_stmt_store_load();
		mnp_nplus1_load();
	}

	mnp_shmem_attached = true;
}

/* The LWLock that protects one shared structure. */
LWLock *
mnp_lock(mnpLockId id)
{
	Assert(mnp_locks != NULL && id < MNP_NUM_LOCKS);
	return &mnp_locks[id].lock;
}

/* Refuse politely when the library was not preloaded. */
void
mnp_require_shmem(void)
{
	if (!mnp_shmem_attached)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("medianest_perf must be loaded via shared_preload_libraries"),
				 errdetail("This function reads statistics kept in shared memory, which exists only when the library is preloaded."),
				 errhint("Add medianest_perf to shared_preload_libraries in postgresql.conf and restart the server.")));
}
