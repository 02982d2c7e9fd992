/*-------------------------------------------------------------------------
 *
 * index_usage.h
 *	  Index usage scoring: GUCs and SQL helpers behind the index_usage and
 *	  table_scans views (see index_usage.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_INDEX_USAGE_H
#define MNP_INDEX_USAGE_H

extern void mnp_index_usage_init(void);

#endif							/* MNP_INDEX_USAGE_H */
