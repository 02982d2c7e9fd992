/*-------------------------------------------------------------------------
 *
 * bloat.h
 *	  Bloat measurement of tables, TOAST tables, materialized views and
 *	  btree indexes (page sampling, full read, or catalog estimate).
 *	  See bloat.c.  The module needs no shared memory: it works whether or
 *	  not the library is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_BLOAT_H
#define MNP_BLOAT_H

/* Define the bloat GUCs; called from _PG_init whether preloading or not. */
extern void mnp_bloat_init(void);

#endif							/* MNP_BLOAT_H */
